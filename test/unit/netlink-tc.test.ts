// The traffic-control requests of the veth filter (src/netlink/tc.ts) in bytes and in --explain's words, and the
// parser of a filter the kernel reports. Their agreement with tc itself is in test/integration/netlink.test.ts.

import { describe, expect, it } from 'vitest';
import { describeRequest, encodeRequests, nestedAttribute, parseAttributes, stringAttribute, u32Attribute, type Request } from '../../src/netlink/message.js';
import { dumpIngressFilters, newBpfFilter, newClsact, parseFilter } from '../../src/netlink/tc.js';

const encodeOne = (request: Request, seq: number) => encodeRequests([request], seq);

const hex = (buffer: Buffer) => buffer.toString('hex');

describe('traffic-control requests', () => {
  it('builds the clsact qdisc: RTM_NEWQDISC, exclusive, handle ffff:0 under TC_H_CLSACT, kind clsact', () => {
    const request = newClsact(7);
    expect(describeRequest(request)).toBe('RTM_NEWQDISC(NLM_F_CREATE|NLM_F_EXCL) tcmsg{index 7, handle ffff:, parent clsact} TCA_KIND "clsact"');
    const bytes = encodeOne(request, 3);
    expect(bytes.readUInt16LE(4)).toBe(36);
    expect(bytes.readUInt16LE(6)).toBe(0x601); // REQUEST | EXCL | CREATE
    // tcmsg: family 0, padding, ifindex 7, handle 0xffff0000, parent 0xfffffff1, info 0
    expect(hex(bytes.subarray(16, 36))).toBe('00000000' + '07000000' + '0000ffff' + 'f1ffffff' + '00000000');
    expect(parseAttributes(bytes, 36).get(1)?.toString()).toBe('clsact\0');
  });

  it('builds the direct-action cls_bpf filter on the ingress hook for every protocol', () => {
    const request = newBpfFilter({ index: 7, program: { fd: 21, name: 'minictr_veth' }, priority: 1, handle: 1 });
    expect(describeRequest(request)).toBe(
      'RTM_NEWTFILTER(NLM_F_CREATE|NLM_F_EXCL) tcmsg{index 7, handle 1, parent ingress, pref 1, protocol all} TCA_KIND "bpf", ' +
        'TCA_OPTIONS {TCA_BPF_FD 21, TCA_BPF_NAME "minictr_veth", TCA_BPF_FLAGS TCA_BPF_FLAG_ACT_DIRECT}',
    );
    const bytes = encodeOne(request, 4);
    expect(bytes.readUInt16LE(4)).toBe(44);
    // handle 1, parent ffff:fff2, info: priority 1 in the high half, ETH_P_ALL (0x0003) in network order in the low
    expect(hex(bytes.subarray(24, 36))).toBe('01000000' + 'f2ffffff' + '00030100');
    const attributes = parseAttributes(bytes, 36);
    expect(attributes.get(1)?.toString()).toBe('bpf\0');
    const options = parseAttributes(attributes.get(2)!);
    expect(options.get(6)?.readUInt32LE(0)).toBe(21); // TCA_BPF_FD
    expect(options.get(7)?.toString()).toBe('minictr_veth\0'); // TCA_BPF_NAME
    expect(options.get(8)?.readUInt32LE(0)).toBe(1); // TCA_BPF_FLAGS: TCA_BPF_FLAG_ACT_DIRECT
  });

  it('dumps the ingress filters of one link', () => {
    const bytes = encodeOne(dumpIngressFilters(9), 5);
    expect(bytes.readUInt16LE(4)).toBe(46);
    expect(bytes.readUInt16LE(6)).toBe(0x301); // REQUEST | DUMP
    expect(hex(bytes.subarray(16, 36))).toBe('00000000' + '09000000' + '00000000' + 'f2ffffff' + '00000000');
  });

  it('parses a filter as the kernel reports it, and the chain head entry without options', () => {
    const tcmsg = (handle: number) => {
      const data = Buffer.alloc(20);
      data.writeInt32LE(9, 4);
      data.writeUInt32LE(handle, 8);
      data.writeUInt32LE(0xfffffff2, 12);
      data.writeUInt32LE(0x00010300, 16);
      return { data, shown: '' };
    };
    const reply = (handle: number, attributes: Request['attributes']) =>
      encodeOne({ name: 'RTM_NEWTFILTER', type: 44, flags: 0, header: tcmsg(handle), attributes }, 1).subarray(16);
    const filter = reply(1, [
      stringAttribute('TCA_KIND', 1, 'bpf'),
      nestedAttribute('TCA_OPTIONS', 2, [stringAttribute('TCA_BPF_NAME', 7, 'minictr_veth'), u32Attribute('TCA_BPF_FLAGS', 8, 1), u32Attribute('TCA_BPF_ID', 11, 30634)]),
    ]);
    expect(parseFilter(filter)).toEqual({
      ifindex: 9,
      parent: 0xfffffff2,
      priority: 1,
      protocol: 3,
      kind: 'bpf',
      handle: 1,
      bpf: { name: 'minictr_veth', id: 30634, directAction: true },
    });
    expect(parseFilter(reply(0, [stringAttribute('TCA_KIND', 1, 'bpf')]))).toMatchObject({ kind: 'bpf', handle: 0, bpf: null });
  });
});
