// Start-to-exit latency of `minictr run /bin/true` (bridge network, with a published port, --network none) against
// `node -e 0`, Node's own start-up (the floor), and against the peers when installed: crun and podman on the same
// rootfs, and the shell script `minictr run --dry-run` prints (unshare + ip + nft + mount, the way the classic
// tutorials do it). All variants run interleaved in the same rounds, so machine noise hits them alike. Then, per
// network mode, where the time goes (--timings) and what follows the container's end until minictr is gone (perf trace).
//
// MINICTR_BENCH_BASELINE=/path/to/other/dist/cli.js adds that build's three runs and steps to the same rounds (the
// README's before and after come from such runs, with a build of the previous commit as the baseline).
import { chmodSync, cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { cli, median, quantile, reapToExit, round, sh, table, timedRun, timeOnce, which } from './lib.mjs';

const MODES = [
  { label: 'bridge', args: [] },
  { label: '-p 8080:80', args: ['-p', '8080:80'] },
  { label: '--network none', args: ['--network', 'none'] },
];

const ROOTFS = new URL('../rootfs/image', import.meta.url).pathname;

/**
 * An OCI bundle for crun: its default spec, with /bin/true on the busybox rootfs (new netns, lo only). crun refuses
 * hybrid cgroup hosts (these machines), so in this benchmark's own mount namespace /sys/fs/cgroup becomes a plain
 * cgroup2 mount, and crun runs with its cgroup manager disabled (minictr creates no cgroup without limits either).
 */
function crunBundle() {
  const dir = '/run/minictr-bench/crun';
  mkdirSync(dir, { recursive: true });
  sh(['crun', 'spec'], { cwd: dir });
  const spec = JSON.parse(sh(['cat', `${dir}/config.json`]));
  spec.process.args = ['/bin/true'];
  spec.process.terminal = false;
  spec.root = { path: ROOTFS, readonly: true };
  writeFileSync(`${dir}/config.json`, JSON.stringify(spec));
  return dir;
}

/**
 * Each build's run code cache holds the functions of the first run after it was removed (dist/cli.cjs): written
 * by a `--dry-run` or `--network none` run it lacks the bridged run's, 7-9 ms of every later bridged run. So every
 * build measured starts from a cache its first bridged run writes, as after `npm run build` and one `run`.
 */
function seedRunCache(program) {
  rmSync(join(dirname(program), 'minictr.cjs.run.cache'), { force: true });
  sh([program, 'run', '--rm', '/bin/true']);
}

export function latency({ runs }) {
  const script = '/run/minictr-bench/dry-run.sh';
  mkdirSync('/run/minictr-bench', { recursive: true });
  seedRunCache(cli);
  if (process.env.MINICTR_BENCH_BASELINE) seedRunCache(process.env.MINICTR_BENCH_BASELINE);
  writeFileSync(script, sh([process.execPath, cli, 'run', '--dry-run', '/bin/true']));
  chmodSync(script, 0o755);
  const baseline = process.env.MINICTR_BENCH_BASELINE;
  const builds = baseline ? [['minictr', cli], ['baseline', baseline]] : [['minictr', cli]];
  const variants = [{ name: 'node -e 0 (floor)', argv: [process.execPath, '-e', '0'] }];
  // Node 20 parses NODE_EXTRA_CA_CERTS's file at every start (30 ms for a system bundle), which minictr's bin defers
  // (src/extra-ca-certs.ts): where it is set, the floor without it is measured too, and runs are compared with both.
  const { NODE_EXTRA_CA_CERTS: extraCaCerts, ...withoutExtraCaCerts } = process.env;
  const cleanFloor = extraCaCerts !== undefined;
  if (cleanFloor) variants.push({ name: 'node -e 0 without NODE_EXTRA_CA_CERTS', argv: [process.execPath, '-e', '0'], env: withoutExtraCaCerts });
  for (const [name, program] of builds) {
    for (const { args } of MODES) {
      variants.push({ name: `${name} run ${[...args, '/bin/true'].join(' ')}`, argv: [program, 'run', '--rm', ...args, '/bin/true'] });
    }
  }
  // The script loads its own copy of minictr's nftables table: the next minictr run would find the ruleset changed
  // and verify and reload it (8 ms here), a cost of this benchmark's order, not of a run. One untimed run after the
  // script puts the ruleset back as minictr leaves it.
  variants.push({ name: 'shell script (run --dry-run): unshare, ip, nft', argv: ['bash', script], after: [cli, 'run', '--rm', '/bin/true'] });
  const notes = cleanFloor ? [`NODE_EXTRA_CA_CERTS is set (${extraCaCerts}): \`node -e 0\` parses it at start-up, minictr's bin defers it to its first TLS connection`] : [];
  if (which('crun')) {
    const bundle = crunBundle();
    let n = 0;
    // crun refuses a hybrid cgroup layout: on such a host it runs in a mount namespace of its own where cgroup2 is
    // mounted on /sys/fs/cgroup, so that the mount never changes what minictr (and the dry-run script) see.
    const hybrid = !sh(['stat', '-f', '-c', '%T', '/sys/fs/cgroup']).includes('cgroup2');
    const crun = (id) => ['crun', '--cgroup-manager=disabled', 'run', '--bundle', bundle, id];
    const wrapped = (id) => ['unshare', '--mount', '--propagation', 'private', '--', 'sh', '-c', 'mount -t cgroup2 none /sys/fs/cgroup && exec "$@"', 'sh', ...crun(id)];
    if (hybrid) notes.push('crun ran under unshare --mount + sh + mount of cgroup2 (about 2-3 ms of its time): crun refuses hybrid cgroups');
    variants.push({ name: 'crun run /bin/true (netns, lo only, no cgroup)', argv: () => (hybrid ? wrapped : crun)(`bench${n++}`) });
  } else notes.push('crun is not installed: not measured');
  // Under a real-time policy (`chrt -f 10 npm run bench`) podman never ended here: it spun at 95 % of a CPU.
  const realTime = sh(['chrt', '-p', String(process.pid)]).includes('SCHED_FIFO');
  if (which('podman') && realTime) notes.push('podman is not measured under a real-time policy (chrt): it would never end');
  else if (which('podman')) {
    // A copy of the tree: podman writes /etc/hosts, /etc/hostname and /etc/resolv.conf into a --rootfs.
    const podmanRootfs = '/run/minictr-bench/podman-rootfs';
    cpSync(ROOTFS, podmanRootfs, { recursive: true, verbatimSymlinks: true });
    variants.push({ name: 'podman run --rootfs /bin/true', argv: ['podman', 'run', '--rm', '--rootfs', podmanRootfs, '/bin/true'] });
  } else notes.push('podman is not installed: not measured');

  // 1. Whole runs, spawn to exit, after three warm-up rounds.
  const argvOf = (variant) => (typeof variant.argv === 'function' ? variant.argv() : variant.argv);
  const timed = (variant) => {
    const ms = timeOnce(argvOf(variant), variant.env);
    if (variant.after) timeOnce(variant.after);
    return ms;
  };
  for (let round = 0; round < 3; round++) for (const variant of variants) timed(variant);
  const samples = variants.map(() => []);
  for (let r = 0; r < runs; r++) variants.forEach((variant, i) => samples[i].push(timed(variant)));
  const floor = median(samples[0]);
  const rows = variants.map((variant, i) => ({
    variant: variant.name,
    'median ms': round(median(samples[i])),
    'p90 ms': round(quantile(samples[i], 0.9)),
    '× node -e 0': round(median(samples[i]) / floor, 2),
    ...(cleanFloor ? { '× node -e 0 without NODE_EXTRA_CA_CERTS': round(median(samples[i]) / median(samples[1]), 2) } : {}),
  }));

  // 2. Per-step times of each network mode (and build), from --timings=json, interleaved too.
  const columns = builds.flatMap(([name, program]) => MODES.map(({ label, args }) => ({ column: `${name} ${label} ms`, program, args })));
  const steps = {};
  for (let r = 0; r < runs; r++) {
    for (const { column, program, args } of columns) {
      for (const [step, ms] of Object.entries(timedRun([...args, '/bin/true'], program))) ((steps[step] ??= {})[column] ??= []).push(ms);
    }
  }
  const stepRows = Object.entries(steps).map(([step, byColumn]) => ({
    step,
    ...Object.fromEntries(columns.map(({ column }) => [column, byColumn[column] ? round(median(byColumn[column]), 2) : ''])),
  }));

  // 3. From the reap of PID 1 to minictr's end, by the kernel's tracepoints.
  let exitRows = [];
  if (which('perf')) {
    const gaps = MODES.map(() => ({ tornDown: [], exitGroup: [], gone: [] }));
    for (let r = 0; r < Math.min(runs, 15); r++) {
      MODES.forEach(({ args }, i) => {
        const gap = reapToExit([cli, 'run', '--rm', '--timings', ...args, '/bin/true']);
        for (const key of Object.keys(gap)) gaps[i][key].push(gap[key]);
      });
    }
    exitRows = MODES.map(({ label }, i) => ({
      mode: label,
      'reap → torn down ms': round(median(gaps[i].tornDown), 2),
      'torn down → exit_group ms': round(median(gaps[i].exitGroup) - median(gaps[i].tornDown), 2),
      'exit_group → gone ms': round(median(gaps[i].gone) - median(gaps[i].exitGroup), 2),
      'reap → gone ms': round(median(gaps[i].gone), 2),
    }));
  } else notes.push('perf is not installed: reap-to-exit not measured');

  return {
    markdown: `### Start-to-exit latency (${runs} runs each, interleaved)\n\n${table(rows)}\n\n${notes.map((n) => `- ${n}\n`).join('')}` +
      `\n### Steps of \`minictr run /bin/true\` (--timings, medians)\n\n${table(stepRows)}\n` +
      (exitRows.length > 0 ? `\n### From the reap of PID 1 to minictr's exit (perf trace, medians)\n\n${table(exitRows)}\n` : ''),
    json: { runs, rows, steps: stepRows, exit: exitRows, notes },
  };
}
