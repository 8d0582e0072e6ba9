// The eBPF programs minictr generates, run here by a small interpreter of the instructions src/bpf/asm.ts emits: it
// decodes the very bytes the kernel is given, so the encoding and the programs' logic are both checked. The kernel's
// verdict on the same programs is in test/integration/devices.test.ts and the loopback guard's integration test.

import { describe, expect, it } from 'vitest';
import { assemble, exit, jump, label, loadAbs, mov, R0, R1 } from '../../src/bpf/asm.js';
import { allowLine, DEFAULT_DEVICE_RULES, deviceFilterProgram, parseAccess, type DeviceRule } from '../../src/bpf/device-filter.js';
import { linkLocalOf, TC_ACT_OK, TC_ACT_SHOT, vethFilterProgram } from '../../src/network/veth-filter.js';
import { parseDeviceFlag } from '../../src/container/devices.js';

/** Runs `program` with r1 = ctx (little-endian bytes) and packet `packet`; returns r0 as a signed 64-bit number. */
function run(program: Uint8Array, ctx: Uint8Array, packet: Uint8Array = new Uint8Array()): bigint {
  const view = new DataView(program.buffer, program.byteOffset, program.byteLength);
  const ctxView = new DataView(ctx.buffer, ctx.byteOffset, ctx.byteLength);
  const packetView = new DataView(packet.buffer, packet.byteOffset, packet.byteLength);
  const regs = new Array<bigint>(11).fill(0n);
  const CTX = 1n << 40n; // a pointer value standing for the context
  regs[1] = CTX;
  const mask = (1n << 64n) - 1n;
  for (let pc = 0, steps = 0; steps < 10_000; steps++) {
    const code = view.getUint8(pc * 8);
    const dst = view.getUint8(pc * 8 + 1) & 0x0f;
    const src = view.getUint8(pc * 8 + 1) >> 4;
    const off = view.getInt16(pc * 8 + 2, true);
    const imm = BigInt(view.getInt32(pc * 8 + 4, true));
    const operand = code & 0x08 ? regs[src]! : imm & mask;
    pc++;
    switch (code & 0x07) {
      case 0x07: { // alu64
        const op = code & 0xf0;
        if (op === 0xb0) regs[dst] = operand;
        else if (op === 0x50) regs[dst] = regs[dst]! & operand;
        else if (op === 0x70) regs[dst] = regs[dst]! >> operand;
        else throw new Error(`alu op ${op.toString(16)}`);
        regs[dst] = regs[dst]! & mask;
        break;
      }
      case 0x01: { // ldx mem: only the context is readable
        const at = Number(regs[src]! - CTX) + off;
        const size = code & 0x18;
        regs[dst] = BigInt(size === 0x00 ? ctxView.getUint32(at, true) : size === 0x08 ? ctxView.getUint16(at, true) : ctxView.getUint8(at));
        break;
      }
      case 0x00: { // ld abs: network order, ending the program with 0 past the packet's end
        const at = Number(imm);
        const size = code & 0x18;
        const length = size === 0x00 ? 4 : size === 0x08 ? 2 : 1;
        if (regs[6] !== CTX) throw new Error('ld_abs without the context in r6');
        if (at + length > packet.length) return 0n;
        regs[0] = BigInt(length === 4 ? packetView.getUint32(at) : length === 2 ? packetView.getUint16(at) : packetView.getUint8(at));
        break;
      }
      case 0x05: // jmp
      case 0x06: { // jmp32: the low 32 bits of both sides
        const op = code & 0xf0;
        if (op === 0x90) return BigInt.asIntN(64, regs[0]!);
        const low = (value: bigint) => ((code & 0x07) === 0x06 ? value & 0xffffffffn : value);
        const a = low(regs[dst]!);
        const b = low(operand);
        const taken =
          op === 0x00 ||
          (op === 0x10 && a === b) ||
          (op === 0x50 && a !== b) ||
          (op === 0x20 && a > b) ||
          (op === 0x30 && a >= b) ||
          (op === 0xa0 && a < b) ||
          (op === 0xb0 && a <= b);
        if (taken) pc += off;
        break;
      }
      default:
        throw new Error(`instruction class ${code & 0x07}`);
    }
  }
  throw new Error('program did not end');
}

describe('bpf assembler', () => {
  it('encodes struct bpf_insn: opcode, registers, offset, immediate', () => {
    const bytes = assemble([mov(R0, -1), jump('ne', R1, 7, 'out'), loadAbs('u16', 12), label('out'), exit()]);
    expect([...bytes]).toEqual([
      0xb7, 0x00, 0, 0, 0xff, 0xff, 0xff, 0xff, // r0 = -1
      0x55, 0x01, 1, 0, 7, 0, 0, 0, // if r1 != 7 goto +1
      0x28, 0x00, 0, 0, 12, 0, 0, 0, // r0 = ntohs(*(u16 *)(skb->data + 12))
      0x95, 0, 0, 0, 0, 0, 0, 0, // exit
    ]);
  });

  it('refuses unknown labels, duplicates and backward jumps', () => {
    expect(() => assemble([jump('eq', R0, 0, 'nowhere'), exit()])).toThrow(/no label "nowhere"/);
    expect(() => assemble([label('a'), label('a'), exit()])).toThrow(/defined twice/);
    expect(() => assemble([label('top'), jump('eq', R0, 0, 'top'), exit()])).toThrow(/must not loop/);
  });
});

describe('device filter', () => {
  // struct bpf_cgroup_dev_ctx: access_type = (access << 16) | type, major, minor.
  const access = (type: 'c' | 'b', bits: string, major: number, minor: number): boolean => {
    const ctx = new Uint8Array(12);
    const view = new DataView(ctx.buffer);
    const accessBits = [...bits].reduce((sum, letter) => sum | ({ m: 1, r: 2, w: 4 } as Record<string, number>)[letter]!, 0);
    view.setUint32(0, (accessBits << 16) | (type === 'b' ? 1 : 2), true);
    view.setUint32(4, major, true);
    view.setUint32(8, minor, true);
    const verdict = run(deviceFilterProgram(DEFAULT_DEVICE_RULES), ctx);
    return verdict === 1n;
  };

  it("allows Docker's default devices for read, write and mknod", () => {
    for (const [major, minor] of [[1, 3], [1, 5], [1, 7], [1, 8], [1, 9], [5, 0], [5, 1], [5, 2], [136, 0], [136, 4095]] as const) {
      expect(access('c', 'rw', major, minor), `c ${major}:${minor}`).toBe(true);
      expect(access('c', 'rwm', major, minor), `c ${major}:${minor}`).toBe(true);
    }
  });

  it('denies every other device, but lets any node be created', () => {
    for (const [major, minor] of [[1, 11], [1, 1], [1, 4], [10, 232], [10, 237], [4, 1], [5, 3], [7, 0]] as const) {
      expect(access('c', 'r', major, minor), `c ${major}:${minor} r`).toBe(false);
      expect(access('c', 'w', major, minor), `c ${major}:${minor} w`).toBe(false);
      expect(access('c', 'm', major, minor), `c ${major}:${minor} m`).toBe(true);
      expect(access('c', 'rm', major, minor), `c ${major}:${minor} rm`).toBe(false);
    }
    expect(access('b', 'r', 8, 0)).toBe(false);
    expect(access('b', 'rw', 7, 0)).toBe(false);
    expect(access('b', 'm', 8, 0)).toBe(true);
    expect(access('b', 'r', 1, 3)).toBe(false); // a block device with a character device's numbers
  });

  it('gives a --device exactly its permissions', () => {
    const rules: DeviceRule[] = [...DEFAULT_DEVICE_RULES, { type: 'c', major: 10, minor: 200, access: 'r' }];
    const ctx = (bits: number) => {
      const bytes = new Uint8Array(12);
      const view = new DataView(bytes.buffer);
      view.setUint32(0, (bits << 16) | 2, true);
      view.setUint32(4, 10, true);
      view.setUint32(8, 200, true);
      return bytes;
    };
    expect(run(deviceFilterProgram(rules), ctx(2))).toBe(1n); // read
    expect(run(deviceFilterProgram(rules), ctx(4))).toBe(0n); // write
    expect(run(deviceFilterProgram(rules), ctx(6))).toBe(0n); // read and write
  });

  it('writes the same rules as devices.allow lines', () => {
    expect(DEFAULT_DEVICE_RULES.map(allowLine)).toEqual([
      'c *:* m', 'b *:* m', 'c 1:3 rwm', 'c 1:5 rwm', 'c 1:7 rwm', 'c 1:8 rwm', 'c 1:9 rwm', 'c 5:0 rwm', 'c 5:1 rwm',
      'c 5:2 rwm', 'c 136:* rwm',
    ]);
  });

  it('parses permissions as Docker does', () => {
    expect(parseAccess('mr')).toBe('rm');
    expect(parseAccess('rwm')).toBe('rwm');
    for (const bad of ['', 'x', 'rr', 'rwmr', 'R']) expect(parseAccess(bad), bad).toBeNull();
  });
});

describe('--device', () => {
  it("parses HOST, HOST:CONTAINER, HOST:PERMS and HOST:CONTAINER:PERMS", () => {
    expect(parseDeviceFlag('/dev/fuse')).toEqual({ hostPath: '/dev/fuse', containerPath: '/dev/fuse', access: 'rwm' });
    expect(parseDeviceFlag('/dev/null:/dev/mynull')).toEqual({ hostPath: '/dev/null', containerPath: '/dev/mynull', access: 'rwm' });
    expect(parseDeviceFlag('/dev/zero:r')).toEqual({ hostPath: '/dev/zero', containerPath: '/dev/zero', access: 'r' });
    expect(parseDeviceFlag('/dev/zero:/dev/net/z:wr')).toEqual({ hostPath: '/dev/zero', containerPath: '/dev/net/z', access: 'rw' });
  });

  it('refuses malformed values, naming the flag', () => {
    for (const bad of ['', 'dev/zero', '/dev/zero:/dev/z:rx', '/dev/zero::r', '/dev/zero:/etc/z', '/dev/zero:/dev/../etc/z', '/dev/a:/dev/b:r:x', '/dev/null:/dev/']) {
      expect(() => parseDeviceFlag(bad), bad).toThrow(/^invalid --device /);
    }
  });
});

describe('veth filter', () => {
  // A container at 10.0.0.50 (MAC 02:6d:63:00:00:32), and one at 192.168.200.9, whose address has its top bit set
  // (jump's immediate would be sign-extended; jump32 compares it as it is).
  const own = { mac: '02:6d:63:00:00:32', address: 0x0a000032 };
  const high = { mac: 'c2:6d:63:a8:c8:09', address: 0xc0a8c809 };
  const macBytes = (mac: string) => mac.split(':').map((b) => parseInt(b, 16));
  const ip = (address: number) => [address >>> 24, (address >>> 16) & 255, (address >>> 8) & 255, address & 255];
  const frame = (etherType: number, source: { mac: string; address: number }, daddr: number[], length = 42) => {
    const bytes = new Uint8Array(length);
    new DataView(bytes.buffer).setUint16(12, etherType);
    bytes.set(macBytes(source.mac), 6);
    if (etherType === 0x0800) {
      bytes[14] = 0x45;
      bytes.set(ip(source.address), 26);
      bytes.set(daddr, 30);
    } else if (etherType === 0x0806) {
      bytes.set(macBytes(source.mac), 22);
      bytes.set(ip(source.address), 28);
    }
    return bytes;
  };
  const verdict = (identity: typeof own & { address6?: bigint }, packet: Uint8Array) => run(vethFilterProgram(identity), new Uint8Array(256), packet);
  const next = BigInt(TC_ACT_OK);
  const drop = BigInt(TC_ACT_SHOT);

  it('passes what the container sends as itself: IPv4, ARP, IPv6', () => {
    expect(verdict(own, frame(0x0800, own, [10, 0, 0, 1]))).toBe(next);
    expect(verdict(own, frame(0x0800, own, [203, 0, 113, 9]))).toBe(next);
    expect(verdict(own, frame(0x0806, own, []))).toBe(next);
    expect(verdict(own, frame(0x86dd, own, [], 60))).toBe(next);
    expect(verdict(high, frame(0x0800, high, [10, 0, 0, 1]))).toBe(next);
    expect(verdict(high, frame(0x0806, high, []))).toBe(next);
  });

  it("drops another's IPv4 or MAC address, in IPv4, ARP and IPv6", () => {
    const otherIp = { ...own, address: 0x0a000003 };
    const otherMac = { ...own, mac: '02:6d:63:00:00:03' };
    for (const etherType of [0x0800, 0x0806]) {
      expect(verdict(own, frame(etherType, otherIp, [10, 0, 0, 1]))).toBe(drop);
      expect(verdict(own, frame(etherType, otherMac, [10, 0, 0, 1]))).toBe(drop);
    }
    expect(verdict(own, frame(0x86dd, otherMac, [], 60))).toBe(drop);
    expect(verdict(high, frame(0x0800, { ...high, address: 0xc0a8c808 }, [10, 0, 0, 1]))).toBe(drop);
  });

  it('on a dual-stack network, passes IPv6 only from its IPv6 address, its link-local address or ::', () => {
    const dual = { ...own, address6: 0xfd000040000000000000000000000002n };
    const ipv6From = (source: bigint) => {
      const bytes = frame(0x86dd, own, [], 62);
      for (let i = 0; i < 16; i++) bytes[22 + i] = Number((source >> BigInt(8 * (15 - i))) & 0xffn);
      return bytes;
    };
    expect(linkLocalOf([2, 0x6d, 0x63, 0x59, 0x28, 3])).toBe(0xfe80000000000000006d63fffe592803n); // as the kernel made it
    expect(verdict(dual, ipv6From(dual.address6))).toBe(next);
    expect(verdict(dual, ipv6From(linkLocalOf(macBytes(own.mac))))).toBe(next);
    expect(verdict(dual, ipv6From(0n))).toBe(next);
    expect(verdict(dual, ipv6From(dual.address6 + 1n))).toBe(drop);
    expect(verdict(dual, ipv6From(0xfd000040000000000000000000000001n))).toBe(drop); // the gateway's
    expect(verdict(dual, ipv6From(linkLocalOf(macBytes('02:6d:63:00:00:33'))))).toBe(drop);
    expect(verdict(dual, frame(0x0800, own, [10, 0, 0, 1]))).toBe(next);
    expect(verdict(own, ipv6From(dual.address6 + 1n))).toBe(next); // IPv4-only network: the MAC alone
  });

  it('drops IPv4 packets for 127.0.0.0/8', () => {
    expect(verdict(own, frame(0x0800, own, [127, 0, 0, 1]))).toBe(drop);
    expect(verdict(own, frame(0x0800, own, [127, 255, 3, 9]))).toBe(drop);
  });

  it('drops frames that still carry a VLAN tag, and every other ethertype', () => {
    for (const etherType of [0x8100, 0x88a8, 0x88cc, 0x0805]) expect(verdict(own, frame(etherType, own, []))).toBe(drop);
  });
});
