// minictr with many detached containers already running: does a new run get slower, does teardown, how much
// memory does each container cost outside itself (its minictr-monitor), and how many nftables rules does a packet
// meet as containers (each publishing a port) grow?
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { loadavg } from 'node:os';
import { cli, median, quantile, round, sh, shAsync, table, timedRun, timeOnce } from './lib.mjs';

// MINICTR_SCALE_LEVELS=0,1000 runs only those levels (the 1,000 level alone takes minutes on 2 cores).
const LEVELS = process.env.MINICTR_SCALE_LEVELS?.split(',').map(Number) ?? [0, 50, 250, 1000];
// The default bridge's /24 has 253 leases, and each level's samples take one too: the first BRIDGED containers are
// bridged and publish a port, the rest run with --network none (their monitor, cgroup, state and name are the same).
const BRIDGED = 250;
const SAMPLES = 15;
/** How many of the running containers one timed `rm -f` removes first. */
const REMOVED = 250;

/**
 * Resident and proportional memory of every minictr-monitor of this scratch host (the monitors in its network
 * namespace: /proc shows those of other hosts too), in KiB.
 */
function monitorMemory() {
  const rss = [];
  const pss = [];
  const host = readlinkSync('/proc/self/ns/net');
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('minictr-monitor\0')) continue;
      if (readlinkSync(`/proc/${pid}/ns/net`) !== host) continue;
      const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
      rss.push(Number(/^Rss:\s+(\d+)/m.exec(rollup)[1]));
      pss.push(Number(/^Pss:\s+(\d+)/m.exec(rollup)[1]));
    } catch {
      // exited meanwhile
    }
  }
  return { rss, pss };
}

/** Rules in minictr's table, per chain, and elements in its port maps (nft's JSON output). */
function nftCounts() {
  const { nftables } = JSON.parse(sh(['nft', '-j', 'list', 'table', 'ip', 'minictr']));
  const rules = {};
  let elements = 0;
  for (const item of nftables) {
    if (item.rule) rules[item.rule.chain] = (rules[item.rule.chain] ?? 0) + 1;
    if (item.map) elements += item.map.elem?.length ?? 0;
  }
  return { rules, elements };
}

/** The network flags of detached container i: bridged, publishing port 20000 + i, or none past BRIDGED. */
const networkOf = (i) => (i < BRIDGED ? ['-p', `${20000 + i}:80`] : ['--network', 'none']);

/** Starts detached containers until `count` run, 8 at a time (see networkOf). */
async function growTo(count, running) {
  while (running.length < count) {
    const batch = Array.from({ length: Math.min(8, count - running.length) }, (_, k) => running.length + k);
    const started = await Promise.allSettled(
      // SCHED_OTHER even when the benchmark runs under `chrt -f`: only what is timed may starve the shared host.
      batch.map((i) => shAsync(['chrt', '-o', '0', process.execPath, cli, 'run', '-d', '--rm', ...networkOf(i), '/bin/sleep', '1000000'])),
    );
    // Every container that did start is recorded before a failure is raised, so the caller can remove it.
    running.push(...started.flatMap((result) => (result.status === 'fulfilled' ? [result.value.trim()] : [])));
    const failed = started.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
  }
}

export async function scale() {
  const running = [];
  const rows = [];
  const json = [];
  let removeSome;
  let removeAll;
  let removeFailure;
  timeOnce([process.execPath, cli, 'run', '--rm', '/bin/true']); // the bridge and the table exist from here on
  try {
    for (const level of LEVELS) {
      await growTo(level, running);
      const starts = [];
      const teardowns = [];
      const stateSteps = [];
      for (let i = 0; i < SAMPLES; i++) {
        starts.push(timeOnce([process.execPath, cli, 'run', '--rm', '/bin/true']));
        const steps = timedRun(['/bin/true']);
        teardowns.push(steps.teardown);
        stateSteps.push(steps.state);
      }
      const memory = monitorMemory();
      const nft = nftCounts();
      const perPacket = (nft.rules.prerouting ?? 0) + (nft.rules.forward ?? 0) + (nft.rules.postrouting ?? 0) + (nft.rules.guard ?? 0);
      const row = {
        'running containers': level,
        'of them --network none': Math.max(0, level - BRIDGED),
        'run /bin/true median ms': round(median(starts)),
        'p90 ms': round(quantile(starts, 0.9)),
        // The step that grew with the containers running while every run began with gc's look at all of them.
        'state step median ms': round(median(stateSteps), 2),
        'teardown median ms': round(median(teardowns), 2),
        'monitor RSS KiB (median)': memory.rss.length ? median(memory.rss) : '-',
        'monitor PSS KiB (median)': memory.pss.length ? median(memory.pss) : '-',
        'nft rules on a forwarded packet': perPacket,
        'load (1 min)': round(loadavg()[0], 1), // the machine is shared: what else ran
        'port map elements': nft.elements,
      };
      rows.push(row);
      json.push({ ...row, starts, teardowns, stateSteps, nftRules: nft.rules });
    }
  } finally {
    // Timed, and also what cleans up when a level fails: nothing may outlive the benchmark. Its failure is
    // reported with the levels' results rather than instead of them.
    try {
      // rm -f of REMOVED at once (the target), then of the rest.
      const some = running.slice(0, REMOVED);
      if (some.length > 0) removeSome = timeOnce([process.execPath, cli, 'rm', '-f', ...some]);
      if (running.length > some.length) removeAll = timeOnce([process.execPath, cli, 'rm', '-f', ...running.slice(some.length)]);
    } catch (failure) {
      removeFailure = failure.message.slice(failure.message.indexOf(' failed ('));
    }
  }
  const base = rows[0]['run /bin/true median ms'];
  for (const row of rows) row['× with none'] = round(row['run /bin/true median ms'] / base, 2);
  return {
    markdown: `### With many detached containers running (${SAMPLES} samples per level)\n\n` +
      `Up to ${BRIDGED} are bridged and publish a port (the default bridge's /24 has 253 leases); the rest run with ` +
      `--network none. Each sample runs bridged.\n\n${table(rows)}\n\n` +
      (removeFailure === undefined
        ? `rm -f of ${Math.min(REMOVED, running.length)}: ${round(removeSome)} ms` +
          (removeAll === undefined ? '.\n' : `; of the other ${running.length - REMOVED}: ${round(removeAll)} ms.\n`)
        : `rm -f of all ${running.length}${removeFailure}\n`),
    json: { levels: json, removeSomeMs: removeSome, removeRestMs: removeAll, removeFailure },
  };
}
