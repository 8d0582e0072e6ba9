#!/usr/bin/env node
// Start-to-exit latency of `minictr run /bin/true` (bridge network, with a published port, and --network none)
// against `node -e 0`, Node's own start-up, measured in the same run and interleaved so that machine noise hits
// every variant alike. Prints a markdown table and writes JSON to bench/results/.
//
// It runs inside a scratch network + mount namespace (it re-executes itself under unshare, with a private /run),
// so the bridge, veths and nftables rules it creates never touch the real host. Root only.
//
// Usage: npm run bench [-- --runs N]      (default 30 runs per variant, after 3 warm-up rounds)
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const SCRATCH_FLAG = 'MINICTR_BENCH_SCRATCH';
const root = fileURLToPath(new URL('..', import.meta.url));
const cli = `${root}dist/cli.js`;
const runsFlag = process.argv.indexOf('--runs');
const runs = runsFlag > 0 ? Number(process.argv[runsFlag + 1]) : 30;

// 1. Enter a scratch host: a new network and mount namespace with a private /run and lo up.
if (process.env[SCRATCH_FLAG] !== '1') {
  const child = spawnSync(
    'unshare',
    ['--net', '--mount', '--propagation', 'private', '--', process.execPath, fileURLToPath(import.meta.url), ...process.argv.slice(2)],
    { stdio: 'inherit', env: { ...process.env, [SCRATCH_FLAG]: '1' } },
  );
  process.exit(child.status ?? 1);
}
execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', '/run']);
execFileSync('ip', ['link', 'set', 'lo', 'up']);

// 2. The variants. Each is one process start, timed from spawn to exit as a shell user would see it.
const variants = [
  { name: 'node -e 0 (floor)', argv: [process.execPath, '-e', '0'] },
  { name: 'minictr run /bin/true', argv: [process.execPath, cli, 'run', '/bin/true'] },
  { name: 'minictr run -p 8080:80 /bin/true', argv: [process.execPath, cli, 'run', '-p', '8080:80', '/bin/true'] },
  { name: 'minictr run --network none /bin/true', argv: [process.execPath, cli, 'run', '--network', 'none', '/bin/true'] },
];

function timeOnce(argv) {
  const start = process.hrtime.bigint();
  const result = spawnSync(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
  const elapsed = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) throw new Error(`${argv.join(' ')} failed (${result.status}): ${result.stderr}`);
  return elapsed;
}

// 3. Warm-up (page cache, the shared bridge and table), then interleaved rounds.
for (let round = 0; round < 3; round++) for (const variant of variants) timeOnce(variant.argv);
const samples = variants.map(() => []);
for (let round = 0; round < runs; round++) {
  variants.forEach((variant, i) => samples[i].push(timeOnce(variant.argv)));
}

// 4. Report: median, p90, and the ratio of medians to the floor.
const quantile = (values, q) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
};
const floor = quantile(samples[0], 0.5);
const rows = variants.map((variant, i) => ({
  variant: variant.name,
  median_ms: Number(quantile(samples[i], 0.5).toFixed(1)),
  p90_ms: Number(quantile(samples[i], 0.9).toFixed(1)),
  ratio_to_floor: Number((quantile(samples[i], 0.5) / floor).toFixed(2)),
}));
console.log(`| variant | median ms | p90 ms | × node -e 0 |\n| --- | ---: | ---: | ---: |`);
for (const row of rows) console.log(`| ${row.variant} | ${row.median_ms} | ${row.p90_ms} | ${row.ratio_to_floor} |`);
console.log(`\n${runs} runs per variant; crun, podman and a hand-written unshare+ip+nft script are not measured yet.`);
mkdirSync(`${root}bench/results`, { recursive: true });
const file = `${root}bench/results/latency-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
writeFileSync(file, `${JSON.stringify({ date: new Date().toISOString(), node: process.version, runs, rows }, null, 2)}\n`);
console.error(`bench: wrote ${file}`);
