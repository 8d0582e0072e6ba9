// Start-to-exit latency of `minictr run /bin/true` (bridge network, with a published port, --network none) against
// `node -e 0`, Node's own start-up (the floor), and against the peers when installed: crun and podman on the same
// rootfs, and the shell script `minictr run --dry-run` prints (unshare + ip + nft + mount, the way the classic
// tutorials do it). All variants run interleaved in the same rounds, so machine noise hits them alike.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { cli, median, quantile, round, sh, table, timedRun, timeOnce, which } from './lib.mjs';

const ROOTFS = new URL('../rootfs/image', import.meta.url).pathname;

/**
 * An OCI bundle for crun: its default spec, with /bin/true on the busybox rootfs (new netns, lo only). crun refuses
 * hybrid cgroup hosts (these machines), so in this benchmark's own mount namespace /sys/fs/cgroup becomes a plain
 * cgroup2 mount, and crun runs with its cgroup manager disabled (minictr creates no cgroup without limits either).
 */
function crunBundle() {
  if (!sh(['stat', '-f', '-c', '%T', '/sys/fs/cgroup']).includes('cgroup2')) sh(['mount', '-t', 'cgroup2', 'none', '/sys/fs/cgroup']);
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

export function latency({ runs }) {
  const script = '/run/minictr-bench/dry-run.sh';
  mkdirSync('/run/minictr-bench', { recursive: true });
  writeFileSync(script, sh([process.execPath, cli, 'run', '--dry-run', '/bin/true']));
  chmodSync(script, 0o755);
  const variants = [
    { name: 'node -e 0 (floor)', argv: [process.execPath, '-e', '0'] },
    { name: 'minictr run /bin/true', argv: [process.execPath, cli, 'run', '--rm', '/bin/true'] },
    { name: 'minictr run -p 8080:80 /bin/true', argv: [process.execPath, cli, 'run', '--rm', '-p', '8080:80', '/bin/true'] },
    { name: 'minictr run --network none /bin/true', argv: [process.execPath, cli, 'run', '--rm', '--network', 'none', '/bin/true'] },
    { name: 'shell script (run --dry-run): unshare, ip, nft', argv: ['bash', script] },
  ];
  const notes = [];
  if (which('crun')) {
    const bundle = crunBundle();
    let n = 0;
    variants.push({ name: 'crun run /bin/true (netns, lo only, no cgroup)', argv: () => ['crun', '--cgroup-manager=disabled', 'run', '--bundle', bundle, `bench${n++}`] });
  } else notes.push('crun is not installed: not measured');
  if (which('podman')) {
    variants.push({ name: 'podman run --rootfs /bin/true', argv: ['podman', 'run', '--rm', '--rootfs', ROOTFS, '/bin/true'] });
  } else notes.push('podman is not installed: not measured');

  const argvOf = (variant) => (typeof variant.argv === 'function' ? variant.argv() : variant.argv);
  for (let round = 0; round < 3; round++) for (const variant of variants) timeOnce(argvOf(variant));
  const samples = variants.map(() => []);
  for (let r = 0; r < runs; r++) variants.forEach((variant, i) => samples[i].push(timeOnce(argvOf(variant))));
  const floor = median(samples[0]);
  const rows = variants.map((variant, i) => ({
    variant: variant.name,
    'median ms': round(median(samples[i])),
    'p90 ms': round(quantile(samples[i], 0.9)),
    '× node -e 0': round(median(samples[i]) / floor, 2),
  }));

  // Per-step times of the bridge variant, from --timings=json.
  const steps = {};
  for (let r = 0; r < runs; r++) {
    for (const [step, ms] of Object.entries(timedRun(['/bin/true']))) (steps[step] ??= []).push(ms);
  }
  const stepRows = Object.entries(steps).map(([step, values]) => ({ step, 'median ms': round(median(values), 2), 'p90 ms': round(quantile(values, 0.9), 2) }));

  return {
    markdown: `### Start-to-exit latency (${runs} runs each, interleaved)\n\n${table(rows)}\n\n${notes.map((n) => `- ${n}\n`).join('')}` +
      `\n### Steps of \`minictr run /bin/true\` (--timings)\n\n${table(stepRows)}\n`,
    json: { runs, rows, steps: stepRows, notes },
  };
}
