// Every name minictr gives to an object on the host, in one place, so debris is findable by prefix and setup,
// teardown, gc and reset can never disagree about what something is called.

/** The bridge all containers attach to; its address is the containers' gateway. */
export const BRIDGE = 'minictr0';

/** minictr's own nftables table (family ip). Nothing outside it is ever touched. */
export const NFT_FAMILY = 'ip';
export const NFT_TABLE = 'minictr';

/** The container's subnet, gateway = first host address. */
export const SUBNET_CIDR = '10.0.0.0/24';

/** Host end of a container's veth pair: prefix + short id, 14 characters (the kernel allows 15). */
export const VETH_PREFIX = 'mc';

export function hostVethName(shortId: string): string {
  return `${VETH_PREFIX}${shortId}`;
}

/** The container's end, created directly inside its network namespace. */
export const CONTAINER_IFNAME = 'eth0';

/** Root of all state: tmpfs, so a reboot (which also removes every kernel object) clears it too. */
export const STATE_ROOT = '/run/minictr';
