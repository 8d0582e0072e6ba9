// minictr's link operations as data, each one both rendered as the `ip` commands that do the same (for --dry-run's
// script and --explain) and carried out as rtnetlink requests through the addon's socket (src/netlink/), so the
// two can never drift apart. No `ip` process runs on a container's path: a run costs a few system calls.
//
//   bridge   create it with its fixed MAC and up (one RTM_NEWLINK), then its address (RTM_NEWADDR, replace)
//   veth     create the pair up on the bridge with the peer made directly in the child's network namespace (one
//            RTM_NEWLINK with IFLA_MASTER and VETH_INFO_PEER {IFLA_NET_NS_PID}), and hairpin on (a second
//            RTM_NEWLINK with bridge_slave data, in the same datagram: the kernel applies a port's settings only to
//            an existing port)
//   delete   RTM_DELLINK; a link already gone counts as deleted

import type { NativeAddon } from '../native/index.js';
import { describeRequest, type Request } from '../netlink/message.js';
import { deleteLink, dumpLinks, NETLINK_ROUTE, newBridge, newVeth, parseLink, replaceAddress, replaceAddress6, setHairpin, setLinkUp } from '../netlink/route.js';
import { withNetlink, type NetlinkError, type NetlinkSocket } from '../netlink/socket.js';
import { formatIpv4 } from './subnet.js';
import { formatIpv6 } from './subnet6.js';

export interface BridgeOperation {
  kind: 'bridge';
  name: string;
  mac: string;
  /** The gateway's address on it, and the subnet's prefix length. */
  address: number;
  prefixLength: number;
  /** A dual-stack network's IPv6 gateway on it, and the IPv6 subnet's prefix length. */
  address6?: { address: bigint; prefixLength: number };
}

export interface VethOperation {
  kind: 'veth';
  /** The host end, joining `master` in hairpin mode. */
  name: string;
  master: string;
  /**
   * The container end, created in the network namespace of process `netns` ("$PID" in --dry-run's script), or in
   * the namespace file `netns` names (a path, as ip's `netns` takes it) whose descriptor `netnsFd` is.
   */
  peer: { name: string; mac: string; netns: number | string; netnsFd?: number };
  /**
   * Created down, brought up by a later 'up' operation once its filter is attached: for `network connect`, whose
   * container already runs and could send through its new end before the filter holds.
   */
  down?: boolean;
}

export interface UpOperation {
  kind: 'up';
  name: string;
}

export interface DeleteOperation {
  kind: 'delete';
  name: string;
}

export type LinkOperation = BridgeOperation | VethOperation | UpOperation | DeleteOperation;

/** One request and the `ip -batch` line that does the same; `request` is built only when the step is carried out. */
interface Step {
  line: string;
  request: () => Request;
}

/**
 * The operation's steps, in phases: a phase's requests go out together, and a later phase may need what an earlier
 * one created (the bridge's index for its address). `indexOf` finds a link's index when a request needs it.
 */
function phases(operation: LinkOperation, indexOf: (name: string) => number): Step[][] {
  switch (operation.kind) {
    case 'bridge': {
      const { name, mac, address, prefixLength, address6 } = operation;
      const shown = formatIpv4(address);
      const addresses: Step[] = [{ line: `addr replace ${shown}/${prefixLength} dev ${name}`, request: () => replaceAddress(indexOf(name), address, shown, prefixLength) }];
      if (address6 !== undefined) {
        const shown6 = formatIpv6(address6.address);
        addresses.push({
          line: `addr replace ${shown6}/${address6.prefixLength} dev ${name} nodad`,
          request: () => replaceAddress6(indexOf(name), address6.address, shown6, address6.prefixLength),
        });
      }
      return [[{ line: `link add ${name} up address ${mac} type bridge`, request: () => newBridge(name, mac) }], addresses];
    }
    case 'veth': {
      const { name, master, peer, down } = operation;
      return [
        [
          {
            line: `link add ${name}${down === true ? '' : ' up'} master ${master} type veth peer name ${peer.name} address ${peer.mac} netns ${peer.netns}`,
            request: () => {
              const netns = peer.netnsFd !== undefined ? { fd: peer.netnsFd } : typeof peer.netns === 'number' ? { pid: peer.netns } : null;
              if (netns === null) throw new Error(`no process or open file for the namespace of ${peer.name} (${peer.netns})`);
              return newVeth({ name, master: { index: indexOf(master), name: master }, peer: { name: peer.name, mac: peer.mac, netns }, down });
            },
          },
          { line: `link set ${name} type bridge_slave hairpin on`, request: () => setHairpin(name, true) },
        ],
      ];
    }
    case 'up':
      return [[{ line: `link set ${operation.name} up`, request: () => setLinkUp(operation.name) }]];
    case 'delete':
      return [[{ line: `link del ${operation.name}`, request: () => deleteLink(operation.name) }]];
  }
}

/** The `ip -batch` lines doing what `operation` does, one per netlink request. */
export function ipLines(operation: LinkOperation): string[] {
  return phases(operation, () => 0).flatMap((phase) => phase.map((step) => step.line));
}

/** What a carried-out operation did. */
export interface Applied {
  /** false when there was nothing to do: a bridge a concurrent run had just created, a link already deleted. */
  changed: boolean;
  /** The netlink messages sent, described for --explain. */
  messages: string[];
}

/**
 * Which failures mean "already done": EEXIST creating the bridge (a concurrent first run created it, up, in one
 * request; the address is replaced either way, which changes nothing if that run already set it); ENODEV deleting a
 * link (gone already, e.g. with its namespace).
 */
function alreadyDone(operation: LinkOperation, phase: number, error: NetlinkError): boolean {
  if (operation.kind === 'bridge') return phase === 0 && isBridgeRace(error);
  return operation.kind === 'delete' && error.code === 'ENODEV';
}

function applyOn(addon: NativeAddon, socket: NetlinkSocket, operation: LinkOperation): Applied {
  const indexOf = (name: string) => {
    const index = addon.interfaceIndex(name);
    if (index === 0) throw new Error(`no link named ${name} in this network namespace`);
    return index;
  };
  const applied: Applied = { changed: true, messages: [] };
  phases(operation, indexOf).forEach((steps, phase) => {
    const requests = steps.map((step) => step.request());
    applied.messages.push(...requests.map(describeRequest));
    for (const { error } of socket.exchange(requests, (i) => `ip ${steps[i]!.line} (${requests[i]!.name})`)) {
      if (error === null) continue;
      if (!alreadyDone(operation, phase, error)) throw error;
      applied.changed = false;
    }
  });
  return applied;
}

/** Carries out `operations` in order through one rtnetlink socket, in this process's network namespace. */
export function applyLinks(addon: NativeAddon, operations: readonly LinkOperation[]): Applied[] {
  return withNetlink(addon, NETLINK_ROUTE, (socket) => operations.map((operation) => applyOn(addon, socket, operation)));
}

/** The kind of link `name` (IFLA_INFO_KIND: bridge, veth…; null for a physical or loopback device); undefined if none. */
export function linkKind(addon: NativeAddon, name: string): string | null | undefined {
  const [dump] = withNetlink(addon, NETLINK_ROUTE, (socket) => socket.exchange([dumpLinks()], () => 'dump links'));
  if (dump!.error !== null) throw dump!.error;
  return dump!.replies.map((reply) => parseLink(reply.payload)).find((link) => link.ifname === name)?.kind;
}

/** A concurrent first run may create the bridge between our check and our request: that is success. */
export function isBridgeRace(error: NetlinkError): boolean {
  return error.code === 'EEXIST';
}
