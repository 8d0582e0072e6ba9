import { describe, expect, it } from 'vitest';
import {
  describeRequest,
  encodeRequests,
  NLMSG_ERROR,
  nestedAttribute,
  parseAttributes,
  parseError,
  parseReplies,
  stringAttribute,
  u8Attribute,
  type Request,
} from '../../src/netlink/message.js';
import { deleteLink, newBridge, newVeth, parseLink, replaceAddress, setHairpin, setLinkUp } from '../../src/netlink/route.js';
import { ipLines } from '../../src/network/links.js';

const encodeOne = (request: Request, seq: number) => encodeRequests([request], seq);

const hex = (buffer: Buffer) => buffer.toString('hex');

describe('netlink message encoding', () => {
  it('writes nlmsghdr with length, type, flags (request added), seq and the padded header and attributes', () => {
    const request: Request = {
      name: 'RTM_DELLINK',
      type: 17,
      flags: 0,
      header: { data: Buffer.alloc(16), shown: 'ifinfomsg{}' },
      attributes: [stringAttribute('IFLA_IFNAME', 3, 'ab')],
    };
    const bytes = encodeOne(request, 7);
    expect(bytes.length).toBe(16 + 16 + 8);
    expect(bytes.readUInt32LE(0)).toBe(40);
    expect(bytes.readUInt16LE(4)).toBe(17);
    expect(bytes.readUInt16LE(6)).toBe(1); // NLM_F_REQUEST
    expect(bytes.readUInt32LE(8)).toBe(7);
    // rtattr: len 7 ("ab\0" + 4), type 3, value, one byte of padding
    expect(hex(bytes.subarray(32))).toBe('0700030061620000');
  });

  it('encodes several requests one after the other in one buffer, with consecutive sequence numbers', () => {
    const first = newBridge('br0', '02:00:00:00:00:01');
    const second = setLinkUp('br0');
    const bytes = encodeRequests([first, second], 41);
    const alone = [encodeOne(first, 41), encodeOne(second, 42)];
    expect(hex(bytes)).toBe(alone.map(hex).join(''));
    const replies = parseReplies(bytes);
    expect(replies.map((reply) => [reply.type, reply.seq])).toEqual([
      [16, 41],
      [16, 42],
    ]);
  });

  it('nests attributes with their fixed header, lengths covering the padded children', () => {
    const nested = nestedAttribute('OUTER', 2, [u8Attribute('A', 1, 9), stringAttribute('B', 3, 'xyz')], { data: Buffer.from([1, 2]), shown: 'h' });
    const bytes = encodeOne({ name: 'X', type: 1, flags: 0, header: { data: Buffer.alloc(0), shown: '' }, attributes: [nested] }, 1);
    const outer = bytes.subarray(16);
    // 4 (outer head) + 4 (header padded) + 8 (u8 attribute padded) + 8 ("xyz\0" attribute)
    expect(outer.readUInt16LE(0)).toBe(24);
    expect(hex(outer.subarray(4, 8))).toBe('01020000');
    const inner = parseAttributes(outer.subarray(4, 24), 4);
    expect([...inner.keys()]).toEqual([1, 3]);
    expect(inner.get(1)).toEqual(Buffer.from([9]));
    expect(inner.get(3)?.toString()).toBe('xyz\0');
  });

  it('builds the veth request --explain describes: peer in the netns by pid, master by index, up', () => {
    const request = newVeth({ name: 'mc1', master: { index: 5, name: 'minictr0' }, peer: { name: 'eth0', mac: '02:6d:63:00:00:07', netns: { pid: 4242 } } });
    expect(describeRequest(request)).toBe(
      'RTM_NEWLINK(NLM_F_CREATE|NLM_F_EXCL) ifinfomsg{flags IFF_UP} IFLA_IFNAME "mc1", IFLA_MASTER 5 (minictr0), IFLA_LINKINFO {IFLA_INFO_KIND "veth", ' +
        'IFLA_INFO_DATA {VETH_INFO_PEER {ifinfomsg{}, IFLA_IFNAME "eth0", IFLA_ADDRESS 02:6d:63:00:00:07, IFLA_NET_NS_PID 4242}}}',
    );
    const bytes = encodeOne(request, 1);
    expect(bytes.readUInt16LE(6)).toBe(0x601); // REQUEST | EXCL | CREATE
    expect(bytes.readUInt32LE(16 + 8)).toBe(1); // ifi_flags IFF_UP
    expect(bytes.readUInt32LE(16 + 12)).toBe(1); // ifi_change IFF_UP
    expect(bytes.includes(Buffer.from('026d63000007', 'hex'))).toBe(true);
    const pid = Buffer.alloc(8);
    pid.writeUInt16LE(8, 0);
    pid.writeUInt16LE(19, 2); // IFLA_NET_NS_PID
    pid.writeUInt32LE(4242, 4);
    expect(bytes.includes(pid)).toBe(true);
  });

  it('creates a veth down when asked (network connect), then brings it up by name', () => {
    const request = newVeth({ name: 'mc1', master: { index: 5, name: 'minictr0' }, peer: { name: 'eth1', mac: '02:6d:63:00:00:07', netns: { pid: 4242 } }, down: true });
    expect(describeRequest(request)).toMatch(/^RTM_NEWLINK\(NLM_F_CREATE\|NLM_F_EXCL\) ifinfomsg\{\} IFLA_IFNAME "mc1"/);
    expect(encodeOne(request, 1).readUInt32LE(16 + 12)).toBe(0); // ifi_change: nothing, so it stays down
    expect(describeRequest(setLinkUp('mc1'))).toBe('RTM_NEWLINK ifinfomsg{flags IFF_UP} IFLA_IFNAME "mc1"');
    const veth = { kind: 'veth', name: 'mc1', master: 'mcbr1', peer: { name: 'eth1', mac: '02:6d:63:00:00:07', netns: 4242 }, down: true } as const;
    expect(ipLines(veth)[0]).toBe('link add mc1 master mcbr1 type veth peer name eth1 address 02:6d:63:00:00:07 netns 4242');
    expect(ipLines({ kind: 'up', name: 'mc1' })).toEqual(['link set mc1 up']);
  });

  it('describes the bridge, its address, hairpin and deletion', () => {
    expect(describeRequest(newBridge('minictr0', '02:6d:63:00:00:01'))).toBe(
      'RTM_NEWLINK(NLM_F_CREATE|NLM_F_EXCL) ifinfomsg{flags IFF_UP} IFLA_IFNAME "minictr0", IFLA_ADDRESS 02:6d:63:00:00:01, IFLA_LINKINFO {IFLA_INFO_KIND "bridge"}',
    );
    const address = replaceAddress(3, 0x0a000001, '10.0.0.1', 24);
    expect(describeRequest(address)).toBe('RTM_NEWADDR(NLM_F_CREATE|NLM_F_REPLACE) ifaddrmsg{AF_INET, prefixlen 24, index 3} IFA_LOCAL 10.0.0.1, IFA_ADDRESS 10.0.0.1');
    expect(hex(encodeOne(address, 1).subarray(16, 24))).toBe('0218000003000000');
    expect(hex(encodeOne(address, 1).subarray(28, 32))).toBe('0a000001'); // network order
    expect(describeRequest(setHairpin('mc1', true))).toBe(
      'RTM_NEWLINK ifinfomsg{} IFLA_IFNAME "mc1", IFLA_LINKINFO {IFLA_INFO_SLAVE_KIND "bridge", IFLA_INFO_SLAVE_DATA {IFLA_BRPORT_MODE 1}}',
    );
    expect(describeRequest(deleteLink('mc1'))).toBe('RTM_DELLINK ifinfomsg{} IFLA_IFNAME "mc1"');
  });
});

describe('netlink reply parsing', () => {
  /** An NLMSG_ERROR as the kernel sends it with NETLINK_CAP_ACK and NETLINK_EXT_ACK. */
  function errorReply(errno: number, seq: number, text: string | null): Buffer {
    const tlv = text === null ? Buffer.alloc(0) : Buffer.concat([Buffer.from([0, 0, 1, 0]), Buffer.from(`${text}\0`)]);
    if (tlv.length > 0) tlv.writeUInt16LE(tlv.length, 0);
    const padded = Buffer.alloc((tlv.length + 3) & ~3);
    tlv.copy(padded);
    const body = Buffer.alloc(4 + 16);
    body.writeInt32LE(-errno, 0);
    body.writeUInt32LE(40, 4); // the capped request's header: its length
    const head = Buffer.alloc(16);
    head.writeUInt32LE(16 + body.length + padded.length, 0);
    head.writeUInt16LE(NLMSG_ERROR, 4);
    head.writeUInt16LE(text === null ? 0x100 : 0x300, 6); // CAPPED, ACK_TLVS
    head.writeUInt32LE(seq, 8);
    return Buffer.concat([head, body, padded]);
  }

  it('splits a datagram into messages and reads errors with the kernel\'s extended-ack text', () => {
    const datagram = Buffer.concat([errorReply(0, 1, null), errorReply(17, 2, 'Device already exists')]);
    const replies = parseReplies(datagram);
    expect(replies.map((r) => [r.type, r.seq])).toEqual([[NLMSG_ERROR, 1], [NLMSG_ERROR, 2]]);
    expect(parseError(replies[0]!)).toEqual({ errno: 0, message: null });
    expect(parseError(replies[1]!)).toEqual({ errno: 17, message: 'Device already exists' });
  });

  it('refuses a message whose length runs past the datagram', () => {
    const bad = errorReply(0, 1, null);
    bad.writeUInt32LE(400, 0);
    expect(() => parseReplies(bad)).toThrow(/malformed netlink message at byte 0: length 400/);
  });

  it('parses a link: name, kind, master, hairpin, MTU, MAC, operstate, up', () => {
    // An RTM_NEWLINK as the kernel would send it for a bridge port, built with the same attribute encoder.
    const mtu = Buffer.alloc(4);
    mtu.writeUInt32LE(1500);
    const master = Buffer.alloc(4);
    master.writeUInt32LE(2);
    const header = Buffer.alloc(16);
    header.writeInt32LE(7, 4);
    header.writeUInt32LE(0x1003, 8); // UP | BROADCAST | MULTICAST
    const message = encodeOne(
      {
        name: 'RTM_NEWLINK',
        type: 16,
        flags: 0,
        header: { data: header, shown: '' },
        attributes: [
          stringAttribute('IFLA_IFNAME', 3, 'mc1'),
          { name: 'IFLA_MTU', type: 4, data: mtu, shown: '' },
          { name: 'IFLA_ADDRESS', type: 1, data: Buffer.from('026d63000002', 'hex'), shown: '' },
          u8Attribute('IFLA_OPERSTATE', 16, 3),
          { name: 'IFLA_MASTER', type: 10, data: master, shown: '' },
          nestedAttribute('IFLA_LINKINFO', 18, [
            stringAttribute('IFLA_INFO_KIND', 1, 'veth'),
            stringAttribute('IFLA_INFO_SLAVE_KIND', 4, 'bridge'),
            nestedAttribute('IFLA_INFO_SLAVE_DATA', 5, [u8Attribute('IFLA_BRPORT_STATE', 1, 0), u8Attribute('IFLA_BRPORT_MODE', 4, 1)]),
          ]),
        ],
      },
      1,
    );
    expect(parseLink(parseReplies(message)[0]!.payload)).toEqual({
      ifindex: 7,
      ifname: 'mc1',
      up: true,
      mtu: 1500,
      address: '02:6d:63:00:00:02',
      operstate: 'LOWERLAYERDOWN',
      master: 2,
      kind: 'veth',
      slaveKind: 'bridge',
      hairpin: true,
    });
  });
});
