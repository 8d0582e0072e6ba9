// Helpers shared by the benchmarks: entering a scratch host, timing a process from spawn to exit, statistics,
// markdown tables. Node built-ins only, so a benchmark measures minictr and not its own tooling.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('..', import.meta.url));
export const cli = `${root}dist/cli.js`;
const SCRATCH_FLAG = 'MINICTR_BENCH_SCRATCH';

/**
 * Re-executes the calling script inside a new network and mount namespace with a private /run and /var/lib and lo
 * up, so the bridge, veths, nftables rules and state the benchmark creates never touch the real host. Returns in the
 * copy.
 */
export function enterScratchHost(script) {
  if (process.env[SCRATCH_FLAG] !== '1') {
    const child = spawnSync(
      'unshare',
      ['--net', '--mount', '--propagation', 'private', '--', process.execPath, script, ...process.argv.slice(2)],
      { stdio: 'inherit', env: { ...process.env, [SCRATCH_FLAG]: '1' } },
    );
    process.exit(child.status ?? 1);
  }
  execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', '/run']);
  execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', '/var/lib']); // writable layers: /var/lib/minictr
  execFileSync('ip', ['link', 'set', 'lo', 'up']);
}

/** Runs argv to completion; throws with its stderr when it fails. Returns stdout. */
export function sh(argv, options = {}) {
  const result = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', ...options });
  if (result.status !== 0) throw new Error(`${argv.join(' ')} failed (${result.status ?? result.signal}): ${result.stderr}`);
  return result.stdout;
}

/** The same, asynchronously (for starting many containers at once). */
export function shAsync(argv) {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${argv.join(' ')} failed (${code}): ${err}`))));
  });
}

export function which(program) {
  return spawnSync('sh', ['-c', `command -v "$1"`, 'which', program], { encoding: 'utf8' }).stdout.trim() || null;
}

/** Wall time in ms of one process, spawn to exit, as a shell user would see it. */
export function timeOnce(argv) {
  const start = process.hrtime.bigint();
  const result = spawnSync(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
  const elapsed = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) throw new Error(`${argv.join(' ')} failed (${result.status ?? result.signal}): ${result.stderr}`);
  return elapsed;
}

export function quantile(values, q) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

export const median = (values) => quantile(values, 0.5);
export const round = (value, digits = 1) => Number(value.toFixed(digits));

/** A markdown table from rows of objects, columns in the order of the first row's keys. */
export function table(rows, headers = Object.keys(rows[0] ?? {})) {
  const lines = [`| ${headers.join(' | ')} |`, `| ${headers.map(() => '---').join(' | ')} |`];
  for (const row of rows) lines.push(`| ${headers.map((h) => String(row[h] ?? '')).join(' | ')} |`);
  return lines.join('\n');
}

/** `minictr run --timings=json` → { step: ms } (`program`: another build's dist/cli.js). */
export function timedRun(args, program = cli) {
  const result = spawnSync(process.execPath, [program, 'run', '--rm', '--timings=json', ...args], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`minictr run ${args.join(' ')} failed: ${result.stderr}`);
  const json = JSON.parse(result.stderr.trim().split('\n').pop());
  return Object.fromEntries([...json.steps.map((s) => [s.step, s.ms]), ['total', json.total_ms]]);
}

/**
 * What follows the container's end in a `minictr run --timings`, from strace's timestamps (-f --seccomp-bpf: only
 * these system calls stop the process), in ms from minictr's waitid() returning PID 1's exit (the reap): to the
 * --timings report's write, right after the teardown; to exit_group(); to the moment minictr is gone (the kernel has
 * freed its memory: what a caller waits for).
 */
export function reapToExit(argv) {
  const log = '/run/minictr-bench/strace.log';
  sh(['strace', '-f', '--seccomp-bpf', '-ttt', '-e', 'trace=waitid,write,exit_group', '-o', log, ...argv]);
  const lines = sh(['cat', log]).trim().split('\n');
  const main = lines.at(-1).split(' ')[0]; // the last line: minictr itself, gone
  const at = (line) => Number(line.split(/\s+/)[1]) * 1000;
  const own = lines.filter((line) => line.startsWith(`${main} `));
  const reap = at(own.findLast((line) => line.includes('waitid') && line.includes('CLD_EXITED')));
  return {
    tornDown: at(own.findLast((line) => line.includes('write(2,'))) - reap,
    exitGroup: at(own.findLast((line) => line.includes('exit_group('))) - reap,
    gone: at(lines.at(-1)) - reap,
  };
}
