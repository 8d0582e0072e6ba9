// linux.seccomp (the OCI / Docker JSON profile) compiled to a classic BPF program, the `struct sock_filter` array
// that native/src/oci.cc installs with PR_SET_SECCOMP. Pure, and unit-tested (test/unit/oci-seccomp.test.ts).
//
// The program, in order:
//   1. the architecture: anything but x86_64 gets the default action (the table describes no other ABI);
//   2. one block per (syscall, rule): load the number, compare, test each argument condition, return the action;
//      a failed test jumps past the block, so each jump stays within the 8-bit offsets classic BPF has;
//   3. the default action.
// Argument conditions compare all 64 bits (high half, then low half): EQ, NE, MASKED_EQ; GT, GE, LT, LE compare
// values below 2^32 only (their high half must be 0), which covers the profiles in use (Docker's, Podman's).
// SCMP_ACT_NOTIFY is refused: nobody would answer.

import { UsageError } from '../errors.js';
import { SYSCALLS_X86_64 } from './syscalls-x86_64.js';

interface Arg {
  index: number;
  value: number;
  valueTwo?: number;
  op: string;
}
interface Rule {
  names?: string[];
  name?: string;
  action: string;
  errnoRet?: number;
  args?: Arg[] | null;
}
export interface SeccompProfile {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  syscalls?: Rule[] | null;
}

const AUDIT_ARCH_X86_64 = 0xc000003e;
const EPERM = 1;

// Classic BPF opcodes (linux/filter.h, bpf_common.h).
const LD_W_ABS = 0x20;
const ALU_AND_K = 0x54;
const JEQ_K = 0x15;
const JGT_K = 0x25;
const JGE_K = 0x35;
const RET_K = 0x06;

// struct seccomp_data: nr at 0, arch at 4, args[i] at 16 + 8i (low half first on little-endian x86_64).
const NR = 0;
const ARCH = 4;
const argLow = (index: number) => 16 + 8 * index;
const argHigh = (index: number) => 16 + 8 * index + 4;

function actionValue(action: string, errnoRet: number | undefined, where: string): number {
  switch (action) {
    case 'SCMP_ACT_KILL':
    case 'SCMP_ACT_KILL_THREAD': return 0x00000000;
    case 'SCMP_ACT_KILL_PROCESS': return 0x80000000;
    case 'SCMP_ACT_TRAP': return 0x00030000;
    case 'SCMP_ACT_ERRNO': return (0x00050000 | ((errnoRet ?? EPERM) & 0xffff)) >>> 0;
    case 'SCMP_ACT_TRACE': return (0x7ff00000 | ((errnoRet ?? EPERM) & 0xffff)) >>> 0;
    case 'SCMP_ACT_LOG': return 0x7ffc0000;
    case 'SCMP_ACT_ALLOW': return 0x7fff0000;
    default: throw new UsageError(`config.json: ${where}: seccomp action "${action}" is not supported`);
  }
}

/** One instruction; `jt`/`jf` are labels resolved by `assemble`, or 0 (the next instruction). */
interface Insn {
  code: number;
  k: number;
  jt?: string;
  jf?: string;
}
type Item = Insn | { label: string };

function assemble(items: readonly Item[]): Buffer {
  const positions = new Map<string, number>();
  const insns: Insn[] = [];
  for (const item of items) {
    if ('label' in item) positions.set(item.label, insns.length);
    else insns.push(item);
  }
  if (insns.length > 4096) throw new UsageError(`config.json: linux.seccomp: the profile needs ${insns.length} BPF instructions, more than the kernel's 4096`);
  const out = Buffer.alloc(insns.length * 8);
  insns.forEach((insn, i) => {
    const offset = (label: string | undefined): number => {
      if (label === undefined) return 0;
      const distance = positions.get(label)! - (i + 1);
      if (distance < 0 || distance > 255) throw new Error(`seccomp: jump to ${label} out of range (${distance})`);
      return distance;
    };
    out.writeUInt16LE(insn.code, i * 8);
    out.writeUInt8(offset(insn.jt), i * 8 + 2);
    out.writeUInt8(offset(insn.jf), i * 8 + 3);
    out.writeUInt32LE(insn.k >>> 0, i * 8 + 4);
  });
  return out;
}

/** Tests of one argument condition, jumping to `fail` when it does not hold. */
function argumentTest(arg: Arg, fail: string, next: string, where: string): Item[] {
  const high = Math.floor(arg.value / 2 ** 32) >>> 0;
  const low = arg.value >>> 0;
  switch (arg.op) {
    case 'SCMP_CMP_EQ':
      return [{ code: LD_W_ABS, k: argHigh(arg.index) }, { code: JEQ_K, k: high, jf: fail },
        { code: LD_W_ABS, k: argLow(arg.index) }, { code: JEQ_K, k: low, jf: fail }];
    case 'SCMP_CMP_NE':
      return [{ code: LD_W_ABS, k: argHigh(arg.index) }, { code: JEQ_K, k: high, jf: next },
        { code: LD_W_ABS, k: argLow(arg.index) }, { code: JEQ_K, k: low, jt: fail }];
    case 'SCMP_CMP_MASKED_EQ': {
      const two = arg.valueTwo ?? 0;
      return [{ code: LD_W_ABS, k: argHigh(arg.index) }, { code: ALU_AND_K, k: high },
        { code: JEQ_K, k: Math.floor(two / 2 ** 32) >>> 0, jf: fail },
        { code: LD_W_ABS, k: argLow(arg.index) }, { code: ALU_AND_K, k: low }, { code: JEQ_K, k: two >>> 0, jf: fail }];
    }
    case 'SCMP_CMP_GT':
    case 'SCMP_CMP_GE':
    case 'SCMP_CMP_LT':
    case 'SCMP_CMP_LE': {
      if (high !== 0) throw new UsageError(`config.json: ${where}: ${arg.op} with a value of 2^32 or more is not supported`);
      const head: Item[] = [{ code: LD_W_ABS, k: argHigh(arg.index) }, { code: JEQ_K, k: 0, jf: arg.op === 'SCMP_CMP_GT' || arg.op === 'SCMP_CMP_GE' ? next : fail },
        { code: LD_W_ABS, k: argLow(arg.index) }];
      if (arg.op === 'SCMP_CMP_GT') return [...head, { code: JGT_K, k: low, jf: fail }];
      if (arg.op === 'SCMP_CMP_GE') return [...head, { code: JGE_K, k: low, jf: fail }];
      if (arg.op === 'SCMP_CMP_LT') return [...head, { code: JGE_K, k: low, jt: fail }];
      return [...head, { code: JGT_K, k: low, jt: fail }];
    }
    default:
      throw new UsageError(`config.json: ${where}: seccomp operator "${arg.op}" is not supported`);
  }
}

export function compileSeccomp(profile: SeccompProfile): Buffer {
  const defaultAction = actionValue(profile.defaultAction, profile.defaultErrnoRet, 'linux.seccomp.defaultAction');
  const items: Item[] = [
    { code: LD_W_ABS, k: ARCH },
    { code: JEQ_K, k: AUDIT_ARCH_X86_64, jt: 'native' },
    { code: RET_K, k: defaultAction },
    { label: 'native' },
  ];
  let block = 0;
  for (const [r, rule] of (profile.syscalls ?? []).entries()) {
    const where = `linux.seccomp.syscalls[${r}]`;
    const action = actionValue(rule.action, rule.errnoRet, where);
    for (const name of rule.names ?? (rule.name !== undefined ? [rule.name] : [])) {
      const number = SYSCALLS_X86_64[name];
      if (number === undefined) continue;
      const end = `end${block++}`;
      items.push({ code: LD_W_ABS, k: NR }, { code: JEQ_K, k: number, jf: end });
      for (const [a, arg] of (rule.args ?? []).entries()) {
        const next = `${end}.arg${a}`;
        items.push(...argumentTest(arg, end, next, `${where}.args[${a}]`), { label: next });
      }
      items.push({ code: RET_K, k: action }, { label: end });
    }
  }
  items.push({ code: RET_K, k: defaultAction });
  return assemble(items);
}
