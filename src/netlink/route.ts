// rtnetlink (rtnetlink(7)) requests for links and addresses, and the parser of a link as the kernel reports it.
// Each builder returns a message.ts Request: the same value is encoded for the socket and described for --explain.
// Numbers are the kernel's (linux/rtnetlink.h, if_link.h, if_addr.h, veth.h).

import {
  bytesAttribute,
  cString,
  NLM_F_CREATE,
  NLM_F_DUMP,
  NLM_F_EXCL,
  NLM_F_REPLACE,
  nestedAttribute,
  parseAttributes,
  stringAttribute,
  struct,
  u32Attribute,
  u8Attribute,
  type Attribute,
  type Request,
} from './message.js';

export const NETLINK_ROUTE = 0;

const RTM_NEWLINK = 16;
const RTM_DELLINK = 17;
const RTM_GETLINK = 18;
const RTM_NEWADDR = 20;

const AF_UNSPEC = 0;
const AF_INET = 2;
const AF_INET6 = 10;
/** ifa_flags: no duplicate address detection, the address is usable at once (not "tentative"). */
const IFA_F_NODAD = 0x02;
const IFF_UP = 0x1;
const RT_SCOPE_UNIVERSE = 0;

const IFLA_ADDRESS = 1;
const IFLA_IFNAME = 3;
const IFLA_MTU = 4;
const IFLA_MASTER = 10;
const IFLA_OPERSTATE = 16;
const IFLA_LINKINFO = 18;
const IFLA_NET_NS_PID = 19;
const IFLA_NET_NS_FD = 28;
const IFLA_INFO_KIND = 1;
const IFLA_INFO_DATA = 2;
const IFLA_INFO_SLAVE_KIND = 4;
const IFLA_INFO_SLAVE_DATA = 5;
const VETH_INFO_PEER = 1;
/** A bridge port's hairpin mode (IFLA_BRPORT_MODE, what `ip link set X type bridge_slave hairpin on` sets). */
const IFLA_BRPORT_MODE = 4;
const IFA_ADDRESS = 1;
const IFA_LOCAL = 2;

/** RFC 2863 operational states, by IFLA_OPERSTATE's value, as ip names them. */
const OPERSTATES = ['UNKNOWN', 'NOTPRESENT', 'DOWN', 'LOWERLAYERDOWN', 'TESTING', 'DORMANT', 'UP'];

/** struct ifinfomsg: family u8, pad, type u16, index s32, flags u32, change u32. */
function ifinfomsg(index: number, up: boolean): Request['header'] {
  const data = struct(16, (view) => {
    view.setUint8(0, AF_UNSPEC);
    view.setInt32(4, index, true);
    view.setUint32(8, up ? IFF_UP : 0, true);
    view.setUint32(12, up ? IFF_UP : 0, true);
  });
  const parts = [...(index !== 0 ? [`index ${index}`] : []), ...(up ? ['flags IFF_UP'] : [])];
  return { data, shown: `ifinfomsg{${parts.join(', ')}}` };
}

/** struct ifaddrmsg: family u8, prefixlen u8, flags u8, scope u8, index u32. */
function ifaddrmsg(prefixLength: number, index: number, family: 'AF_INET' | 'AF_INET6' = 'AF_INET'): Request['header'] {
  const data = struct(8, (view) => {
    view.setUint8(0, family === 'AF_INET' ? AF_INET : AF_INET6);
    view.setUint8(1, prefixLength);
    view.setUint8(2, family === 'AF_INET6' ? IFA_F_NODAD : 0);
    view.setUint8(3, RT_SCOPE_UNIVERSE);
    view.setUint32(4, index, true);
  });
  return { data, shown: `ifaddrmsg{${family}, prefixlen ${prefixLength}${family === 'AF_INET6' ? ', flags IFA_F_NODAD' : ''}, index ${index}}` };
}

function macAttribute(mac: string): Attribute {
  return bytesAttribute('IFLA_ADDRESS', IFLA_ADDRESS, Uint8Array.from(mac.split(':'), (byte) => parseInt(byte, 16)), mac);
}

/** An IPv4 address as 4 bytes in network order. */
function ipv4Attribute(name: string, type: number, address: number, shown: string): Attribute {
  return bytesAttribute(name, type, struct(4, (view) => view.setUint32(0, address >>> 0)), shown);
}

/** A bridge, with a fixed MAC, created up; fails with EEXIST when one of that name exists. */
export function newBridge(name: string, mac: string): Request {
  return {
    name: 'RTM_NEWLINK',
    type: RTM_NEWLINK,
    flags: NLM_F_CREATE | NLM_F_EXCL,
    header: ifinfomsg(0, true),
    attributes: [
      stringAttribute('IFLA_IFNAME', IFLA_IFNAME, name),
      macAttribute(mac),
      nestedAttribute('IFLA_LINKINFO', IFLA_LINKINFO, [stringAttribute('IFLA_INFO_KIND', IFLA_INFO_KIND, 'bridge')]),
    ],
  };
}

/** An IPv4 address on the link with index `index`, replacing the same address there. */
export function replaceAddress(index: number, address: number, shown: string, prefixLength: number): Request {
  return {
    name: 'RTM_NEWADDR',
    type: RTM_NEWADDR,
    flags: NLM_F_CREATE | NLM_F_REPLACE,
    header: ifaddrmsg(prefixLength, index),
    attributes: [ipv4Attribute('IFA_LOCAL', IFA_LOCAL, address, shown), ipv4Attribute('IFA_ADDRESS', IFA_ADDRESS, address, shown)],
  };
}

/**
 * An IPv6 address (16 bytes of `address`, a 128-bit number) on the link with index `index`, without duplicate
 * address detection, replacing the same address there.
 */
export function replaceAddress6(index: number, address: bigint, shown: string, prefixLength: number): Request {
  const data = struct(16, (view) => {
    view.setBigUint64(0, address >> 64n);
    view.setBigUint64(8, address & 0xffffffffffffffffn);
  });
  return {
    name: 'RTM_NEWADDR',
    type: RTM_NEWADDR,
    flags: NLM_F_CREATE | NLM_F_REPLACE,
    header: ifaddrmsg(prefixLength, index, 'AF_INET6'),
    attributes: [bytesAttribute('IFA_LOCAL', IFA_LOCAL, data, shown), bytesAttribute('IFA_ADDRESS', IFA_ADDRESS, data, shown)],
  };
}

export interface VethRequest {
  name: string;
  /** The bridge it joins, by index (and name, for --explain). */
  master: { index: number; name: string };
  /**
   * The other end, created directly in a network namespace: that of a process (a run's child), or one open as a
   * file (a CNI runtime's netns path).
   */
  peer: { name: string; mac: string; netns: { pid: number } | { fd: number } };
  /** Created down, to be brought up by setLinkUp once its filter is attached. */
  down?: boolean;
}

/** A veth pair, created up on its bridge, its peer created in place in another network namespace. */
export function newVeth(veth: VethRequest): Request {
  const peerInfo = ifinfomsg(0, false);
  return {
    name: 'RTM_NEWLINK',
    type: RTM_NEWLINK,
    flags: NLM_F_CREATE | NLM_F_EXCL,
    header: ifinfomsg(0, veth.down !== true),
    attributes: [
      stringAttribute('IFLA_IFNAME', IFLA_IFNAME, veth.name),
      u32Attribute('IFLA_MASTER', IFLA_MASTER, veth.master.index, `${veth.master.index} (${veth.master.name})`),
      nestedAttribute('IFLA_LINKINFO', IFLA_LINKINFO, [
        stringAttribute('IFLA_INFO_KIND', IFLA_INFO_KIND, 'veth'),
        nestedAttribute('IFLA_INFO_DATA', IFLA_INFO_DATA, [
          nestedAttribute(
            'VETH_INFO_PEER',
            VETH_INFO_PEER,
            [
              stringAttribute('IFLA_IFNAME', IFLA_IFNAME, veth.peer.name),
              macAttribute(veth.peer.mac),
              'pid' in veth.peer.netns
                ? u32Attribute('IFLA_NET_NS_PID', IFLA_NET_NS_PID, veth.peer.netns.pid)
                : u32Attribute('IFLA_NET_NS_FD', IFLA_NET_NS_FD, veth.peer.netns.fd),
            ],
            peerInfo,
          ),
        ]),
      ]),
    ],
  };
}

/** A bridge port's hairpin mode (the port may send a frame back out where it came from). */
export function setHairpin(name: string, on: boolean): Request {
  return {
    name: 'RTM_NEWLINK',
    type: RTM_NEWLINK,
    flags: 0,
    header: ifinfomsg(0, false),
    attributes: [
      stringAttribute('IFLA_IFNAME', IFLA_IFNAME, name),
      nestedAttribute('IFLA_LINKINFO', IFLA_LINKINFO, [
        stringAttribute('IFLA_INFO_SLAVE_KIND', IFLA_INFO_SLAVE_KIND, 'bridge'),
        nestedAttribute('IFLA_INFO_SLAVE_DATA', IFLA_INFO_SLAVE_DATA, [u8Attribute('IFLA_BRPORT_MODE', IFLA_BRPORT_MODE, on ? 1 : 0)]),
      ]),
    ],
  };
}

/** Brings a link up (`ip link set NAME up`). */
export function setLinkUp(name: string): Request {
  return { name: 'RTM_NEWLINK', type: RTM_NEWLINK, flags: 0, header: ifinfomsg(0, true), attributes: [stringAttribute('IFLA_IFNAME', IFLA_IFNAME, name)] };
}

export function deleteLink(name: string): Request {
  return { name: 'RTM_DELLINK', type: RTM_DELLINK, flags: 0, header: ifinfomsg(0, false), attributes: [stringAttribute('IFLA_IFNAME', IFLA_IFNAME, name)] };
}

/** Every link of the namespace (a dump, answered with one RTM_NEWLINK each). */
export function dumpLinks(): Request {
  return { name: 'RTM_GETLINK', type: RTM_GETLINK, flags: NLM_F_DUMP, header: ifinfomsg(0, false), attributes: [] };
}

/** A link as the kernel reports it (RTM_NEWLINK), in the terms of `ip -d -j link show`. */
export interface Link {
  ifindex: number;
  ifname: string;
  up: boolean;
  mtu: number;
  /** Its MAC, as aa:bb:...; null for a link without one. */
  address: string | null;
  operstate: string;
  /** The index of its master (a bridge), if any. */
  master: number | null;
  /** IFLA_INFO_KIND: veth, bridge...; null for a physical or loopback device. */
  kind: string | null;
  /** IFLA_INFO_SLAVE_KIND: "bridge" for a bridge port. */
  slaveKind: string | null;
  /** A bridge port's hairpin mode; null when not a bridge port. */
  hairpin: boolean | null;
}

export function parseLink(payload: Buffer): Link {
  const attributes = parseAttributes(payload, 16);
  const linkinfo = attributes.has(IFLA_LINKINFO) ? parseAttributes(attributes.get(IFLA_LINKINFO)!) : new Map<number, Buffer>();
  const text = (data: Buffer | undefined) => (data === undefined ? null : cString(data));
  const slaveKind = text(linkinfo.get(IFLA_INFO_SLAVE_KIND));
  const slaveData = linkinfo.get(IFLA_INFO_SLAVE_DATA);
  const mode = slaveKind === 'bridge' && slaveData !== undefined ? parseAttributes(slaveData).get(IFLA_BRPORT_MODE) : undefined;
  const mac = attributes.get(IFLA_ADDRESS);
  return {
    ifindex: payload.readInt32LE(4),
    ifname: text(attributes.get(IFLA_IFNAME)) ?? '',
    up: (payload.readUInt32LE(8) & IFF_UP) !== 0,
    mtu: attributes.get(IFLA_MTU)?.readUInt32LE(0) ?? 0,
    address: mac === undefined ? null : [...mac].map((byte) => byte.toString(16).padStart(2, '0')).join(':'),
    operstate: OPERSTATES[attributes.get(IFLA_OPERSTATE)?.readUInt8(0) ?? 0] ?? 'UNKNOWN',
    master: attributes.get(IFLA_MASTER)?.readUInt32LE(0) ?? null,
    kind: text(linkinfo.get(IFLA_INFO_KIND)),
    slaveKind,
    hairpin: mode === undefined ? null : mode.readUInt8(0) !== 0,
  };
}
