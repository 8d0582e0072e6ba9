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

/**
 * The MAC address of the interface holding IPv4 `address` on the bridge (the bridge itself included): locally
 * administered prefix 02:6d:63 ("mc") + the address's low three bytes. A MAC that follows the address keeps
 * neighbours' ARP caches right when an address passes to a new container, and a fixed bridge MAC keeps it from
 * changing as ports come and go (by default a bridge takes the lowest MAC among its ports).
 */
export function macFor(address: number): string {
  const bytes = [0x02, 0x6d, 0x63, (address >>> 16) & 255, (address >>> 8) & 255, address & 255];
  return bytes.map((byte) => byte.toString(16).padStart(2, '0')).join(':');
}

/** The container's end, created directly inside its network namespace. */
export const CONTAINER_IFNAME = 'eth0';

/** Root of all state: tmpfs, so a reboot (which also removes every kernel object) clears it too. */
export const STATE_ROOT = '/run/minictr';

/**
 * Root of minictr's persistent data, on disk: images (image/store.ts) and what may be too large for a tmpfs
 * (containers' writable layers). It survives a reboot, so gc removes what no container in STATE_ROOT accounts for.
 * MINICTR_DATA_ROOT moves it (the image tests keep their stores apart).
 */
export const DATA_ROOT = process.env.MINICTR_DATA_ROOT ?? '/var/lib/minictr';
