// Images: what running and pulling them costs, against the built-in rootfs and the standard tools, in the same run.
//
//   run   `minictr run --rm IMAGE /bin/true` (the busybox rootfs as a one-layer image, pulled beforehand) against
//         `minictr run --rm /bin/true`, in interleaved rounds; the goal is at most 3 ms more. --timings of the image
//         run shows where its time goes.
//   pull  a 5-layer image (the busybox rootfs in the first; 4 MiB of random data and 64 small files in each, gzip'd
//         by umoci) from a registry on loopback: `minictr pull`, which unpacks as it downloads, and `minictr pull`
//         plus what the first run costs more than a built-in run (nothing left to unpack: about zero), against
//         `skopeo copy docker://… oci:…` and that plus `umoci unpack` of the same image; each round starts from an
//         empty store.
//
// The registry is Debian's docker-registry on 127.0.0.1:5000 of the benchmark's scratch network namespace; the
// images are built offline with umoci and pushed with skopeo, as the integration tests do. Nothing leaves loopback.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { cli, median, quantile, round, sh, table, timedRun, timeOnce, which } from './lib.mjs';

const ROOTFS = new URL('../rootfs/image', import.meta.url).pathname;
const WORK = '/run/minictr-bench/images';
const REGISTRY = '127.0.0.1:5000';
const RUN_IMAGE = `${REGISTRY}/bench/busybox:1`;
const PULL_IMAGE = `${REGISTRY}/bench/layers:1`;
const LAYERS = 5;
const STORE = ['blobs', 'images', 'layers', 'tmp'].map((dir) => `/var/lib/minictr/${dir}`);

async function startRegistry() {
  const dir = `${WORK}/registry`;
  mkdirSync(dir, { recursive: true });
  const config = ['version: 0.1', 'log:', '  level: error', 'storage:', '  filesystem:', `    rootdirectory: ${dir}/data`, 'http:', `  addr: ${REGISTRY}`, ''];
  writeFileSync(`${dir}/config.yml`, config.join('\n'));
  const server = spawn('docker-registry', ['serve', `${dir}/config.yml`], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    const up = await fetch(`http://${REGISTRY}/v2/`).then((r) => r.status < 500, () => false);
    if (up) return server;
    await sleep(50);
  }
  server.kill('SIGKILL');
  throw new Error(`docker-registry did not answer on ${REGISTRY}`);
}

/** An OCI layout `layout:1` whose layers are made, bottom first, by `fill(rootfsDir, n)` for n in 0..layers-1. */
function buildImage(layout, layers, fill) {
  const bundle = `${WORK}/bundle`;
  sh(['umoci', 'init', '--layout', layout]);
  sh(['umoci', 'new', '--image', `${layout}:1`]);
  for (let n = 0; n < layers; n++) {
    rmSync(bundle, { recursive: true, force: true });
    sh(['umoci', 'unpack', '--image', `${layout}:1`, bundle]);
    fill(`${bundle}/rootfs`, n);
    sh(['umoci', 'repack', '--image', `${layout}:1`, bundle]);
  }
  rmSync(bundle, { recursive: true, force: true });
  sh(['umoci', 'config', '--image', `${layout}:1`, '--config.env', 'PATH=/usr/sbin:/usr/bin:/sbin:/bin']);
}

function push(layout, reference) {
  sh(['skopeo', 'copy', '-q', '--dest-tls-verify=false', `oci:${layout}:1`, `docker://${reference}`]);
}

/** CPU time (user + system) of this process's waited-for children so far, in ms (clock ticks: 10 ms steps). */
const CLOCK_TICKS = Number(sh(['getconf', 'CLK_TCK']).trim());
function childrenCpuMs() {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[13]) + Number(fields[14])) * 1000) / CLOCK_TICKS; // cutime, cstime
}

/** Wall-clock and CPU time of one run of argv (CPU time says more than wall-clock on a busy machine). */
function timeWithCpu(argv) {
  const cpu = childrenCpuMs();
  const wall = timeOnce(argv);
  return { wall, cpu: childrenCpuMs() - cpu };
}

const emptyStore = () => STORE.forEach((dir) => rmSync(dir, { recursive: true, force: true }));
const stats = (name, values) => ({ variant: name, 'median ms': round(median(values)), 'p90 ms': round(quantile(values, 0.9)) });

export async function images({ runs }) {
  const missing = ['docker-registry', 'umoci', 'skopeo'].filter((tool) => !which(tool));
  if (missing.length > 0) return { markdown: `### Images\n\nnot measured: ${missing.join(', ')} not installed\n`, json: { missing } };
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  const registry = await startRegistry();
  try {
    buildImage(`${WORK}/busybox`, 1, (rootfs) => cpSync(ROOTFS, rootfs, { recursive: true, verbatimSymlinks: true }));
    buildImage(`${WORK}/layers`, LAYERS, (rootfs, n) => {
      if (n === 0) cpSync(ROOTFS, rootfs, { recursive: true, verbatimSymlinks: true }); // something to run
      const dir = `${rootfs}/data/layer${n}`;
      mkdirSync(dir, { recursive: true });
      for (let i = 0; i < 4; i++) writeFileSync(`${dir}/blob${i}`, randomBytes(1 << 20));
      for (let i = 0; i < 64; i++) writeFileSync(`${dir}/small${i}.txt`, `layer ${n} file ${i}\n`.repeat(20));
    });
    push(`${WORK}/busybox`, RUN_IMAGE);
    push(`${WORK}/layers`, PULL_IMAGE);

    // 1. run: both variants interleaved in each round, after a warm-up.
    sh([process.execPath, cli, 'pull', '-q', RUN_IMAGE]);
    const runVariants = [
      { name: 'minictr run /bin/true (built-in rootfs)', argv: [process.execPath, cli, 'run', '--rm', '/bin/true'] },
      { name: 'minictr run IMAGE /bin/true (1 layer, pulled)', argv: [process.execPath, cli, 'run', '--rm', RUN_IMAGE, '/bin/true'] },
    ];
    for (let r = 0; r < 3; r++) for (const variant of runVariants) timeOnce(variant.argv);
    const runSamples = runVariants.map(() => []);
    for (let r = 0; r < runs; r++) runVariants.forEach((variant, i) => runSamples[i].push(timeOnce(variant.argv)));
    const runRows = runVariants.map((variant, i) => stats(variant.name, runSamples[i]));
    const extra = round(median(runSamples[1]) - median(runSamples[0]), 2);
    // Each round's own difference too: the machine's load drifts between rounds, less within one.
    const paired = round(median(runSamples[1].map((ms, r) => ms - runSamples[0][r])), 2);
    const steps = {};
    for (let r = 0; r < Math.min(runs, 10); r++) {
      for (const [args, label] of [[['/bin/true'], 'built-in'], [[RUN_IMAGE, '/bin/true'], 'image']]) {
        for (const [step, ms] of Object.entries(timedRun(args))) ((steps[step] ??= {})[label] ??= []).push(ms);
      }
    }
    const stepRows = Object.entries(steps).map(([step, by]) => ({
      step,
      'built-in median ms': round(median(by['built-in'] ?? [0]), 2),
      'image median ms': round(median(by.image ?? [0]), 2),
    }));

    // 2. pull: each round from an empty store (minictr's) and an empty layout and bundle (skopeo's and umoci's).
    const pullRuns = Math.max(3, Math.round(runs / 5));
    const oci = `${WORK}/pulled`;
    const bundle = `${WORK}/unpacked`;
    const pullSamples = { pull: [], pullUnpack: [], skopeo: [], skopeoUmoci: [], pullCpu: [], skopeoUmociCpu: [] };
    for (let r = 0; r < pullRuns + 1; r++) {
      emptyStore();
      const { wall: pull, cpu: pullCpu } = timeWithCpu([process.execPath, cli, 'pull', '-q', PULL_IMAGE]);
      const unpackRun = timeOnce([process.execPath, cli, 'run', '--rm', '--pull', 'never', '--entrypoint', '/bin/true', PULL_IMAGE]);
      const plainRun = timeOnce(runVariants[0].argv); // what the first run costs besides unpacking
      rmSync(oci, { recursive: true, force: true });
      rmSync(bundle, { recursive: true, force: true });
      const { wall: copy, cpu: copyCpu } = timeWithCpu(['skopeo', 'copy', '-q', '--src-tls-verify=false', `docker://${PULL_IMAGE}`, `oci:${oci}:1`]);
      const { wall: unpack, cpu: unpackCpu } = timeWithCpu(['umoci', 'unpack', '--image', `${oci}:1`, bundle]);
      if (r === 0) continue; // warm-up
      pullSamples.pullCpu.push(pullCpu);
      pullSamples.skopeoUmociCpu.push(copyCpu + unpackCpu);
      pullSamples.pull.push(pull);
      pullSamples.pullUnpack.push(pull + unpackRun - plainRun);
      pullSamples.skopeo.push(copy);
      pullSamples.skopeoUmoci.push(copy + unpack);
    }
    const pullRows = [
      stats('minictr pull (downloads and unpacks)', pullSamples.pull),
      stats('minictr pull + the first run less a built-in run of the same round', pullSamples.pullUnpack),
      stats('skopeo copy docker://… oci:…', pullSamples.skopeo),
      stats('skopeo copy + umoci unpack', pullSamples.skopeoUmoci),
    ];
    const cpuRows = [stats('minictr pull: CPU time', pullSamples.pullCpu), stats('skopeo copy + umoci unpack: CPU time', pullSamples.skopeoUmociCpu)];
    rmSync(oci, { recursive: true, force: true });
    rmSync(bundle, { recursive: true, force: true });
    emptyStore();

    return {
      markdown:
        `### run IMAGE against the built-in rootfs (${runs} runs each, interleaved)\n\n${table(runRows)}\n\n` +
        `- an image run costs ${extra} ms more (difference of the medians; median of each round's difference: ${paired} ms; goal: at most 3 ms)\n` +
        `\n### Steps of both runs (--timings, ${Math.min(runs, 10)} runs each)\n\n${table(stepRows)}\n` +
        `\n### pull of a ${LAYERS}-layer image (${LAYERS} × 4 MiB random data + 64 small files) from a registry on loopback (${pullRuns} rounds)\n\n${table(pullRows)}\n\n${table(cpuRows)}\n`,
      json: { runs, run: runRows, extraMs: extra, pairedExtraMs: paired, steps: stepRows, pullRuns, pull: pullRows, pullCpu: cpuRows },
    };
  } finally {
    registry.kill('SIGKILL');
    rmSync(WORK, { recursive: true, force: true });
  }
}
