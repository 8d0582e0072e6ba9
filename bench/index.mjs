#!/usr/bin/env node
// minictr's benchmarks (root only; never part of `npm test`). Each section prints a markdown table; all results go
// to bench/results/<date>.json.
//
//   latency    start-to-exit of `run /bin/true` against node -e 0, crun, podman and a shell script; --timings steps
//   scale      start and teardown latency, monitor memory and nftables rules with 0, 50, 250 and 1,000 detached containers
//   dataplane  iperf3 throughput through minictr's network against plain veth and loopback
//   images     run IMAGE against the built-in rootfs; pull of a 5-layer image against skopeo copy + umoci unpack
//   networks   run on a user-defined network against the default bridge; its resolver's latency and memory
//
// Usage: npm run bench [-- SECTION...] [-- --runs N]      (default: every section, 30 runs per latency variant)
// Everything runs in a scratch network + mount namespace (see lib.mjs): the real host is never touched.
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { enterScratchHost, root } from './lib.mjs';

enterScratchHost(fileURLToPath(import.meta.url));

const args = process.argv.slice(2);
const runsFlag = args.indexOf('--runs');
const runs = runsFlag >= 0 ? Number(args[runsFlag + 1]) : 30;
const named = args.filter((arg, i) => !arg.startsWith('--') && (runsFlag < 0 || i !== runsFlag + 1));
const sections = named.length > 0 ? named : ['latency', 'scale', 'dataplane', 'images', 'networks'];

const results = { date: new Date().toISOString(), node: process.version, sections: {} };
for (const section of sections) {
  const module = await import(`./${section}.mjs`);
  const { markdown, json } = await module[section]({ runs });
  console.log(markdown);
  results.sections[section] = json;
}
mkdirSync(`${root}bench/results`, { recursive: true });
const file = `${root}bench/results/${results.date.replace(/[:.]/g, '-')}.json`;
writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
console.error(`bench: wrote ${file}`);
