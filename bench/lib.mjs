// Helpers shared by the benchmarks: entering a scratch host, timing a process from spawn to exit, statistics,
// markdown tables. Node built-ins only, so a benchmark measures minictr and not its own tooling.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmdirSync } from 'node:fs';
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
    const before = new Set(minictrCgroupParents());
    const child = spawnSync(
      'unshare',
      ['--net', '--mount', '--propagation', 'private', '--', process.execPath, script, ...process.argv.slice(2)],
      { stdio: 'inherit', env: { ...process.env, [SCRATCH_FLAG]: '1' } },
    );
    // The containers' cgroups are the host's (the scratch mount namespace sees the same hierarchies): the parent
    // minictr made for them goes too, once empty, unless it was there before.
    for (const dir of minictrCgroupParents()) {
      if (before.has(dir)) continue;
      try {
        rmdirSync(dir);
      } catch {
        // in use by now (another minictr on this host): not the benchmark's to remove
      }
    }
    process.exit(child.status ?? 1);
  }
  execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', '/run']);
  execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', '/var/lib']); // writable layers: /var/lib/minictr
  execFileSync('ip', ['link', 'set', 'lo', 'up']);
}

/** The `minictr` parent cgroup in each cgroup hierarchy where it exists. */
function minictrCgroupParents() {
  const hierarchies = ['/sys/fs/cgroup', ...readdirSync('/sys/fs/cgroup', { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => `/sys/fs/cgroup/${d.name}`)];
  return hierarchies.map((dir) => `${dir}/minictr`).filter((dir) => existsSync(dir));
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
export function timeOnce(argv, env = process.env) {
  const start = process.hrtime.bigint();
  const result = spawnSync(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], env });
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

/** `minictr run --timings=json` → { step: ms } (`program`: another build's dist/cli.js), run as the bin is. */
export function timedRun(args, program = cli) {
  const result = spawnSync(program, ['run', '--rm', '--timings=json', ...args], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`minictr run ${args.join(' ')} failed: ${result.stderr}`);
  const json = JSON.parse(result.stderr.trim().split('\n').pop());
  return Object.fromEntries([...json.steps.map((s) => [s.step, s.ms]), ['total', json.total_ms]]);
}

/**
 * What follows the container's end in `argv`, a `minictr run --timings`, from `perf trace` (kernel tracepoints: the
 * process runs at its own speed), in ms from minictr's last waitid(), the reap of PID 1: to the --timings report's
 * write, right after the teardown; to exit_group(); to its last thread's exit (sched_process_exit, group_dead).
 */
export function reapToExit(argv) {
  const events = 'waitid,write,exit_group,sched:sched_process_exit';
  const result = spawnSync('perf', ['trace', '-T', '-e', events, '--', ...argv], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`perf trace ${argv.join(' ')} failed: ${result.stderr}`);
  const lines = result.stderr.split('\n').map((line) => /^\s*([\d.]+) \(.*?\): (\S+)\/(\d+) (.*)$/.exec(line)).filter(Boolean);
  const event = (match) => ({ at: Number(match[1]), comm: match[2], tid: match[3], text: match[4] });
  const all = lines.map(event);
  const exitGroup = all.findLast((e) => e.comm === 'node' && e.text.startsWith('exit_group('));
  const own = all.filter((e) => e.tid === exitGroup.tid);
  const reap = own.findLast((e) => e.text.startsWith('waitid(')).at;
  return {
    tornDown: own.findLast((e) => /^write\(fd: 2, .*count: [1-9]/.test(e.text)).at - reap,
    exitGroup: exitGroup.at - reap,
    gone: all.findLast((e) => e.text.includes('group_dead: 1')).at - reap,
  };
}
