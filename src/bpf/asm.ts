// A tiny eBPF assembler: the few instructions minictr's two programs need (src/bpf/device-filter.ts and
// src/network/veth-filter.ts), typed, with named labels for jumps, encoded into the kernel's 8-byte `struct bpf_insn`
// for bpf(BPF_PROG_LOAD). Building the programs here rather than in C keeps the native addon to the system calls,
// and lets unit tests read (and run, test/unit/bpf.test.ts) what the kernel will be given.

import { endianness } from 'node:os';

/** A register: r0 return value, r1 the context on entry, r6 the context for loadAbs, r10 the frame pointer. */
export interface Register {
  readonly reg: 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 10;
}

export const R0: Register = { reg: 0 };
export const R1: Register = { reg: 1 };
export const R2: Register = { reg: 2 };
export const R3: Register = { reg: 3 };
export const R4: Register = { reg: 4 };
export const R5: Register = { reg: 5 };
export const R6: Register = { reg: 6 };

export type Size = 'u8' | 'u16' | 'u32';
export type Condition = 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le';

/** One instruction, its jump target still a label; or a label marking the next instruction. */
export type Item =
  | { kind: 'insn'; code: number; dst: number; src: number; off: number; imm: number; target: string | null }
  | { kind: 'label'; name: string };

// Opcode fields (include/uapi/linux/bpf_common.h and bpf.h).
const CLASS = { ld: 0x00, ldx: 0x01, jmp: 0x05, jmp32: 0x06, alu64: 0x07 } as const;
const SIZE: Record<Size, number> = { u32: 0x00, u16: 0x08, u8: 0x10 };
const MODE = { abs: 0x20, mem: 0x60 } as const;
const ALU = { and: 0x50, rsh: 0x70, mov: 0xb0 } as const;
const JUMP: Record<Condition | 'ja' | 'exit', number> = { ja: 0x00, eq: 0x10, gt: 0x20, ge: 0x30, ne: 0x50, lt: 0xa0, le: 0xb0, exit: 0x90 };
const SOURCE_K = 0x00;
const SOURCE_X = 0x08;

function insn(code: number, dst: number, src: number, off: number, imm: number, target: string | null = null): Item {
  return { kind: 'insn', code, dst, src, off, imm, target };
}

function alu(op: keyof typeof ALU, dst: Register, value: Register | number): Item {
  return typeof value === 'number'
    ? insn(CLASS.alu64 | ALU[op] | SOURCE_K, dst.reg, 0, 0, value)
    : insn(CLASS.alu64 | ALU[op] | SOURCE_X, dst.reg, value.reg, 0, 0);
}

/** dst = value (64-bit). */
export const mov = (dst: Register, value: Register | number): Item => alu('mov', dst, value);
/** dst &= value. */
export const and = (dst: Register, value: Register | number): Item => alu('and', dst, value);
/** dst >>= bits (logical). */
export const rsh = (dst: Register, bits: number): Item => alu('rsh', dst, bits);

/** dst = *(size *)(src + offset), zero-extended: a field of the context. */
export function load(size: Size, dst: Register, src: Register, offset: number): Item {
  return insn(CLASS.ldx | SIZE[size] | MODE.mem, dst.reg, src.reg, offset, 0);
}

/**
 * r0 = the packet's bytes at `offset` from skb->data, in host order (network programs only; r6 must hold the
 * context). A packet too short ends the program, returning 0.
 */
export function loadAbs(size: Size, offset: number): Item {
  return insn(CLASS.ld | SIZE[size] | MODE.abs, 0, 0, 0, offset);
}

/** if (dst <condition> value) goto label. */
export function jump(condition: Condition, dst: Register, value: Register | number, label: string): Item {
  return typeof value === 'number'
    ? insn(CLASS.jmp | JUMP[condition] | SOURCE_K, dst.reg, 0, 0, value, label)
    : insn(CLASS.jmp | JUMP[condition] | SOURCE_X, dst.reg, value.reg, 0, 0, label);
}

/**
 * if ((u32)dst <condition> value) goto label: compares the low 32 bits only, so a 32-bit value such as an IPv4
 * address is compared as it is (jump's immediate is sign-extended to 64 bits).
 */
export function jump32(condition: Condition, dst: Register, value: number, label: string): Item {
  return insn(CLASS.jmp32 | JUMP[condition] | SOURCE_K, dst.reg, 0, 0, value | 0, label);
}

export const goto = (label: string): Item => insn(CLASS.jmp | JUMP.ja, 0, 0, 0, 0, label);
export const exit = (): Item => insn(CLASS.jmp | JUMP.exit, 0, 0, 0, 0);
export const label = (name: string): Item => ({ kind: 'label', name });

/** Resolves the labels and encodes the instructions in this machine's byte order. */
export function assemble(items: readonly Item[]): Uint8Array {
  const positions = new Map<string, number>();
  let count = 0;
  for (const item of items) {
    if (item.kind === 'insn') count++;
    else if (positions.has(item.name)) throw new Error(`bpf assembler: label "${item.name}" defined twice`);
    else positions.set(item.name, count);
  }
  const bytes = new Uint8Array(count * 8);
  const view = new DataView(bytes.buffer);
  const little = endianness() === 'LE';
  let at = 0;
  for (const item of items) {
    if (item.kind === 'label') continue;
    let { off } = item;
    if (item.target !== null) {
      const position = positions.get(item.target);
      if (position === undefined) throw new Error(`bpf assembler: no label "${item.target}"`);
      off = position - at - 1; // jumps count from the next instruction
      if (off < 0) throw new Error(`bpf assembler: jump back to "${item.target}" (programs must not loop)`);
    }
    const base = at * 8;
    view.setUint8(base, item.code);
    // struct bpf_insn's 4-bit register fields: dst_reg is the low nibble on little-endian machines.
    view.setUint8(base + 1, little ? (item.src << 4) | item.dst : (item.dst << 4) | item.src);
    view.setInt16(base + 2, off, little);
    view.setInt32(base + 4, item.imm, little);
    at++;
  }
  return bytes;
}
