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
const VETH_PREFIX = 'mc';
const HOST_VETH = new RegExp(`^${VETH_PREFIX}[0-9a-f]{12}$`);

export function hostVethName(shortId: string): string {
  return `${VETH_PREFIX}${shortId}`;
}

/** Whether a host interface is named as the host end of a container's veth. */
export function isHostVeth(name: string): boolean {
  return HOST_VETH.test(name);
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

/**
 * The bridge of a user-defined network (network/networks.ts): prefix + the first 10 hex digits of its id, 14
 * characters. Docker's are "br-" + 12.
 */
const NETWORK_BRIDGE_PREFIX = 'mcbr';
const NETWORK_BRIDGE = new RegExp(`^${NETWORK_BRIDGE_PREFIX}[0-9a-f]{10}$`);

export function networkBridgeName(networkId: string): string {
  return `${NETWORK_BRIDGE_PREFIX}${networkId.slice(0, 10)}`;
}

export function isNetworkBridge(name: string): boolean {
  return NETWORK_BRIDGE.test(name);
}

/** A user-defined network's own nftables table (family ip), named after its bridge. */
export function networkTableName(bridge: string): string {
  return `${NFT_TABLE}_${bridge}`;
}

/**
 * Host end of the veth of a container's further network (`network connect`): prefix + 8 hex digits of the
 * container id + 4 of the network id, 14 characters.
 */
export function connectedVethName(containerId: string, networkId: string): string {
  return `mx${containerId.slice(0, 8)}${networkId.slice(0, 4)}`;
}
