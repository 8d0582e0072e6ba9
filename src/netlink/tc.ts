// rtnetlink requests for traffic control (tc(8)): a clsact qdisc on a link and a direct-action cls_bpf filter on its
// ingress (what `tc qdisc add dev X clsact` and `tc filter add dev X ingress ... bpf da` send), a dump of a link's
// ingress filters, and the parser of a filter as the kernel reports it. Each builder returns a message.ts Request.
// Numbers are the kernel's (linux/rtnetlink.h, pkt_sched.h, pkt_cls.h, if_ether.h).

import { cString, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL, nestedAttribute, parseAttributes, stringAttribute, struct, u32Attribute, type Request } from './message.js';

const RTM_NEWQDISC = 36;
const RTM_NEWTFILTER = 44;
const RTM_GETTFILTER = 46;

const AF_UNSPEC = 0;
/** The clsact qdisc's parent and handle (ffff:fff1, ffff:0), and its ingress hook as a filter's parent (ffff:fff2). */
const TC_H_CLSACT = 0xfffffff1;
const CLSACT_HANDLE = 0xffff0000;
const TC_H_INGRESS_PARENT = 0xfffffff2;
const ETH_P_ALL = 0x0003;

const TCA_KIND = 1;
const TCA_OPTIONS = 2;
const TCA_BPF_FD = 6;
const TCA_BPF_NAME = 7;
const TCA_BPF_FLAGS = 8;
const TCA_BPF_ID = 11;
/** The program's return code is the verdict (TC_ACT_*): no tc action follows. */
const TCA_BPF_FLAG_ACT_DIRECT = 1;

/** struct tcmsg: family u8, pad u8, pad u16, ifindex s32, handle u32, parent u32, info u32. */
function tcmsg(index: number, handle: number, parent: number, info: number, shown: string): Request['header'] {
  const data = struct(20, (view) => {
    view.setUint8(0, AF_UNSPEC);
    view.setInt32(4, index, true);
    view.setUint32(8, handle >>> 0, true);
    view.setUint32(12, parent >>> 0, true);
    view.setUint32(16, info >>> 0, true);
  });
  return { data, shown: `tcmsg{index ${index}, ${shown}}` };
}

/** The clsact qdisc on the link with index `index`; fails with EEXIST when it has one. */
export function newClsact(index: number): Request {
  return {
    name: 'RTM_NEWQDISC',
    type: RTM_NEWQDISC,
    flags: NLM_F_CREATE | NLM_F_EXCL,
    header: tcmsg(index, CLSACT_HANDLE, TC_H_CLSACT, 0, 'handle ffff:, parent clsact'),
    attributes: [stringAttribute('TCA_KIND', TCA_KIND, 'clsact')],
  };
}

export interface BpfFilterRequest {
  /** The link, by index. */
  index: number;
  /** The loaded program (BPF_PROG_TYPE_SCHED_CLS), by descriptor, and the name tc shows for it. */
  program: { fd: number; name: string };
  /** The filter's priority and handle on the ingress hook. */
  priority: number;
  handle: number;
}

/**
 * A cls_bpf filter on the link's clsact ingress for every protocol (ETH_P_ALL), in direct-action mode: the program's
 * return code is the packet's fate. tcm_info holds the priority (high 16 bits) and the protocol in network order.
 */
export function newBpfFilter(filter: BpfFilterRequest): Request {
  const protocol = ((ETH_P_ALL & 0xff) << 8) | (ETH_P_ALL >> 8); // htons
  return {
    name: 'RTM_NEWTFILTER',
    type: RTM_NEWTFILTER,
    flags: NLM_F_CREATE | NLM_F_EXCL,
    header: tcmsg(filter.index, filter.handle, TC_H_INGRESS_PARENT, ((filter.priority << 16) | protocol) >>> 0, `handle ${filter.handle}, parent ingress, pref ${filter.priority}, protocol all`),
    attributes: [
      stringAttribute('TCA_KIND', TCA_KIND, 'bpf'),
      nestedAttribute('TCA_OPTIONS', TCA_OPTIONS, [
        u32Attribute('TCA_BPF_FD', TCA_BPF_FD, filter.program.fd),
        stringAttribute('TCA_BPF_NAME', TCA_BPF_NAME, filter.program.name),
        u32Attribute('TCA_BPF_FLAGS', TCA_BPF_FLAGS, TCA_BPF_FLAG_ACT_DIRECT, 'TCA_BPF_FLAG_ACT_DIRECT'),
      ]),
    ],
  };
}

/** The filters on the ingress hook of the link with index `index` (a dump: one RTM_NEWTFILTER each). */
export function dumpIngressFilters(index: number): Request {
  return { name: 'RTM_GETTFILTER', type: RTM_GETTFILTER, flags: NLM_F_DUMP, header: tcmsg(index, 0, TC_H_INGRESS_PARENT, 0, 'parent ingress'), attributes: [] };
}

/** A filter as the kernel reports it (RTM_NEWTFILTER), in the terms of `tc -j filter show`. */
export interface Filter {
  ifindex: number;
  parent: number;
  /** The priority ("pref"), and the protocol in host order (3: all). */
  priority: number;
  protocol: number;
  kind: string;
  /** The filter's own handle; 0 for the chain's head entry that names only kind and priority. */
  handle: number;
  /** A cls_bpf filter's options: its program's name and id, and whether it is direct-action. */
  bpf: { name: string | null; id: number | null; directAction: boolean } | null;
}

export function parseFilter(payload: Buffer): Filter {
  const attributes = parseAttributes(payload, 20);
  const info = payload.readUInt32LE(16);
  const kind = attributes.get(TCA_KIND);
  const options = attributes.get(TCA_OPTIONS);
  const bpf = kind !== undefined && cString(kind) === 'bpf' && options !== undefined ? parseAttributes(options) : null;
  const name = bpf?.get(TCA_BPF_NAME);
  return {
    ifindex: payload.readInt32LE(4),
    parent: payload.readUInt32LE(12),
    priority: info >>> 16,
    protocol: ((info & 0xff) << 8) | ((info >> 8) & 0xff),
    kind: kind === undefined ? '' : cString(kind),
    handle: payload.readUInt32LE(8),
    bpf:
      bpf === null
        ? null
        : {
            name: name === undefined ? null : cString(name),
            id: bpf.get(TCA_BPF_ID)?.readUInt32LE(0) ?? null,
            directAction: ((bpf.get(TCA_BPF_FLAGS)?.readUInt32LE(0) ?? 0) & TCA_BPF_FLAG_ACT_DIRECT) !== 0,
          },
  };
}
