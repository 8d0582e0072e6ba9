// `minictr run`, as a numbered sequence of steps. This file owns the order; each step's mechanics live in its own
// module. Everything the container needs is decided before step 1 (validation), every acquisition registers its
// undo right after it succeeds, and the journal records each host object before it is created, so that a run
// killed at any point can be cleaned up by gc from the same record.
//
//   validation   preflight, rootfs, command lookup: errors here leave nothing to undo
//   (1) state    gc of dead containers, the state directory with its journal, the writable layer on disk, the
//                --name reservation
//   (2) address  an IPv4 lease and the published host ports (bridge network only); the cgroup with its limits
//                and device policy
//   (3) spawn    clone() into new namespaces; the child blocks on the release pipe
//   (4) network  bridge + veth in one `ip -batch`, then the veth filter (loopback guard, anti-spoofing) on the
//                veth; at the same time ip_forward, and ports (NAT) in one nft call
//   (5) release  "go": the child configures eth0, mounts its root, pivots, applies the security profile, execs;
//                failures come back as {step, errno}
//   (6) wait     forward signals to the container's PID 1 until it exits
//   (7) teardown the undo stack, last first; the kernel removes the veth pair with the network namespace. A
//                container that ran is kept as exited, holding only its name, unless --rm
//
// -d changes two steps: in (3) the container's parent is minictr-monitor, not this process (see native/src/spawn.cc),
// and in (6) the record names the monitor as owner, the handoff pipe closes and this process exits; when PID 1
// exits, the monitor execs `minictr cleanup ID`, which does (7) from the journal, as gc would.

import { closeSync, writeSync } from 'node:fs';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';
import { childStepError, messageOf, MinictrError, stepError, UsageError } from '../errors.js';
import { warn } from '../log.js';
import { ensureForwarding, ensureNoRouterAdvertisements, isBridgeRace, setRouteLocalnet } from '../network/bridge.js';
import { attachVethFilter } from '../network/veth-filter.js';
import { ensureRuleset } from '../network/firewall.js';
import { ipBatch, linkExists } from '../network/iproute.js';
import { BRIDGE, CONTAINER_IFNAME } from '../network/names.js';
import { describeMapping } from '../network/ports.js';
import { formatIpv4 } from '../network/subnet.js';
import { helperPath, nativeAddon, type ChildFailure, type ExitStatus, type NativeAddon, type SpawnOptions } from '../native/index.js';
import { CommandError } from '../sys/command.js';
import { selfRef, startTimeOf } from '../sys/proc.js';
import { Teardown } from '../teardown.js';
import { mainStartedAt } from '../startup.js';
import { createCgroups, joinCgroups, planCgroups } from './cgroups.js';
import { crashPoint } from './crash.js';
import { collectGarbage, describeEntry, hasContainerState, ipam, portRegistry, removeStalePublished, resetInProgress, undoEntry } from './gc.js';
import { HeldChild } from './held-child.js';
import { shortId } from './ids.js';
import { prepareMounts } from './mounts.js';
import { claimName } from './names.js';
import { hostNetwork, planRun, securityOptions, spawnOptions, type Plan } from './plan.js';
import { RunReport } from './report.js';
import { SignalRelay } from './signals.js';
import type { RunSpec } from './spec.js';
import { ContainerState, type JournalEntry } from './state.js';
import { TerminalRelay } from './terminal.js';

export type { ExitStatus } from '../native/index.js';

/** A child step that failed, as an error naming the step and its object, with Docker's exit-code kind. */
function childError(failure: ChildFailure, plan: Plan, state: ContainerState): MinictrError {
  const objects: Record<string, string> = {
    exec: plan.execPath,
    'set hostname': plan.hostname,
    'configure interface': CONTAINER_IFNAME,
    'add default route': `via ${formatIpv4(plan.spec.subnet.gateway)}`,
    'mount overlay rootfs': `${plan.spec.rootfs} (writable layer ${state.layerDir})`,
    'enter working directory': plan.spec.workdir,
    'create device node': plan.devices.map((device) => device.path).join(', '),
    'mount volumes': plan.mounts.map((mount) => `${mount.source} on ${mount.target}`).join(', '),
  };
  return childStepError(failure, objects[failure.step]);
}

/** One acquisition of a step; its failures name the step, except the user's errors (a name in use), which say all. */
function acquire<T>(step: string, action: () => T): T {
  try {
    return action();
  } catch (cause) {
    if (cause instanceof UsageError) throw cause;
    throw new MinictrError(`${step}: ${messageOf(cause)}`, 'failure', cause);
  }
}

/** How a run ended: PID 1's status, or, detached, null once the container runs under its monitor. */
export interface RunOutcome {
  id: string;
  status: ExitStatus | null;
}

/** What the child's exec and stdio need beyond the plan: minictr-init (--init or not), -t and -d's monitor. */
function processOptions(plan: Plan, state: ContainerState): Pick<SpawnOptions, 'helper' | 'init' | 'terminal' | 'monitor'> {
  const cli = fileURLToPath(new URL('../cli.js', import.meta.url));
  return {
    helper: helperPath('minictr-init'),
    init: plan.spec.init,
    terminal: plan.spec.tty ? TerminalRelay.size() : null,
    monitor: plan.spec.detach
      ? {
          path: helperPath('minictr-monitor'),
          log: state.logPath,
          keepStdin: plan.spec.interactive,
          argv: [
            'minictr-monitor',
            state.exitPath,
            state.exitReservePath,
            state.logPath,
            String(plan.spec.log.maxSize),
            String(plan.spec.log.maxFile),
            '--',
            process.execPath,
            cli,
            'cleanup',
            plan.id,
          ],
          env: [`PATH=${process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'}`],
        }
      : null,
  };
}

/** Runs the container to completion (or, detached, until it runs) and returns how its PID 1 ended. */
export async function runContainer(spec: RunSpec): Promise<RunOutcome> {
  const report = new RunReport({ explain: spec.explain, startup: mainStartedAt });
  const decided = await planRun(spec);
  const addon = nativeAddon(); // a missing addon or helper is reported before anything exists
  helperPath('minictr-init');
  if (spec.detach) helperPath('minictr-monitor');
  report.step('validate', `flags, rootfs ${spec.rootfs}, command "${spec.argv[0]}" found at ${decided.execPath}`);
  const teardown = new Teardown();
  const signals = new SignalRelay();
  signals.start();
  try {
    return await execute(decided, addon, teardown, signals, report);
  } finally {
    // Signals stay caught (and recorded, no longer forwarded) until teardown ends: a second Ctrl-C must not
    // kill minictr halfway through it.
    signals.stopForwarding();
    const failures = await teardown.run();
    for (const failure of failures) warn(`teardown: ${failure.message}`);
    signals.stop();
    report.step('teardown', `undo in reverse order from the journal${failures.length > 0 ? `, ${failures.length} failed` : ''}; the kernel removes the veth pair with the network namespace`);
    if (spec.timings !== null) process.stderr.write(report.render(spec.timings));
  }
}

async function execute(
  plan: Plan,
  addon: NativeAddon,
  teardown: Teardown,
  signals: SignalRelay,
  report: RunReport,
): Promise<RunOutcome> {
  const { spec, id } = plan;
  const short = shortId(id);
  // Once PID 1 has exec'd, the container is kept as exited (with its name) at the end, unless --rm.
  let started = false;
  const kept = () => started && !spec.autoRemove;
  const record = (state: ContainerState, entry: JournalEntry) => {
    state.journal(entry);
    return entry;
  };
  // Releasing an address or a name hands it to the next run: only once everything undone before it succeeded
  // (a failed unpublish must not let another container inherit this one's traffic). Otherwise gc retries later.
  const undoable = (entry: JournalEntry) =>
    teardown.defer(
      describeEntry(entry),
      async () => {
        // Kept as exited: its name, and its anonymous volumes (rm -v removes them).
        if (!((entry.kind === 'name' || entry.kind === 'volume') && kept())) await undoEntry(id, entry);
      },
      { onlyIfClean: entry.kind === 'lease' || entry.kind === 'name' },
    );

  // 1. State: first clean up after containers whose minictr died, then this container's directory and name.
  if (hasContainerState()) await collectGarbage().catch((cause: Error) => warn(cause.message));
  const state = ContainerState.create({
    id,
    name: spec.name,
    owner: selfRef(),
    createdAt: new Date().toISOString(),
    argv: spec.argv,
    network: spec.network,
    config: {
      rootfs: spec.rootfs,
      image: spec.image,
      hostname: plan.hostname,
      env: plan.env,
      workdir: spec.workdir,
      security: securityOptions(plan),
      mounts: plan.mounts,
    },
    detached: spec.detach,
    autoRemove: spec.autoRemove,
    log: spec.log,
    status: 'created',
    startedAt: null,
    finishedAt: null,
    exitCode: null,
  });
  // Last undo: keep the record as exited, holding only its name; or remove it.
  teardown.defer(
    `${spec.autoRemove ? 'remove' : 'keep'} state of ${short}`,
    () => {
      if (kept()) state.markExited(128 + constants.signals.SIGKILL);
      else state.remove();
    },
    { onlyIfClean: true },
  );
  // The directory exists first, then the check: a reset that began before it is seen here, one that begins after
  // it sees this container (see resetInProgress).
  if (resetInProgress()) throw new MinictrError('minictr system reset is under way: run again once it is done');
  crashPoint('state');
  // The writable layer, on disk: its undo runs once the process is gone (registered before the process's).
  undoable(record(state, { kind: 'layer', dir: state.layerDir }));
  state.createLayer(spec.rootfs);
  if (spec.name !== null) {
    const entry = record(state, { kind: 'name', name: spec.name });
    acquire(`claim name ${spec.name}`, () => claimName(spec.name!, id));
    crashPoint('name');
    undoable(entry);
  }
  report.step(
    'state',
    `${state.dir}: state.json names this process as owner; the journal records each host object before it exists; writable layer ${state.layerDir}`,
  );
  // Volumes: made where missing (anonymous ones journaled first), seeded by their first container, -v host
  // directories created. The record above names them all, so no `volume rm` takes one from under this run.
  if (plan.mounts.length > 0) {
    const root = spec.image === null ? spec.rootfs : spec.layers;
    const made = acquire('prepare volumes', () => prepareMounts(plan.mounts, root, (name) => undoable(record(state, { kind: 'volume', name }))));
    report.step('volumes', `${made.join('; ')}; the child mounts them on paths resolved inside the new root (openat2 RESOLVE_IN_ROOT, /proc/self/fd)`);
  }

  // 2. Address: a lease in the subnet (the journal entry follows the lease, whose address it names; gc also
  //    reclaims leases whose container directory is gone).
  let address: string | null = null;
  if (spec.network === 'bridge') {
    address = acquire('lease an address', () => ipam().lease(id, spec.requestedIp));
    crashPoint('lease');
    undoable(record(state, { kind: 'lease', address }));
  }
  if (address !== null && spec.ports.length > 0) {
    const entry = record(state, { kind: 'ports', address, mappings: spec.ports });
    acquire('claim host ports', () => portRegistry().claim(id, spec.ports));
    crashPoint('ports');
    undoable(entry);
  }
  if (address !== null) {
    const ports = spec.ports.map((m) => `${m.protocol}-${m.hostPort}`).join(', ');
    report.step('address', `lease ${address}: O_EXCL file in ${ipam().dir}${ports ? `; host ports ${ports} claimed likewise` : ''}`);
  }
  // Resource limits and the device policy: the cgroup exists, configured, before the child does (its undo runs
  // after the process is gone, when the directories are empty).
  const cgroups = planCgroups(id, spec.limits, plan.deviceRules);
  if (cgroups.length > 0) {
    const entry = record(state, { kind: 'cgroup', dirs: cgroups.map((c) => c.dir) });
    undoable(entry);
    try {
      await createCgroups(cgroups);
    } catch (cause) {
      throw stepError('create cgroup', cgroups.map((c) => c.dir).join(', '), cause);
    }
  }
  signals.check();

  // 3. Spawn: the child exists in its namespaces, blocked until released. Its exit is watched from now on, by this
  //    process, or detached by its monitor.
  const terminal = spec.tty && !spec.detach ? new TerminalRelay(addon) : null; // detached: the monitor's
  if (terminal !== null) teardown.defer('close the terminal', () => terminal.finish());
  const dirs = { upper: state.upperDir, work: state.workDir, merged: state.mergedDir };
  const child = addon.spawn({ ...spawnOptions(plan, dirs, address), ...processOptions(plan, state) });
  terminal?.attach(child.consoleFd);
  const detached = child.monitorPid > 0;
  // Detached: closing the handoff lets the monitor run `minictr cleanup` after PID 1 exits (which leaves the
  // container alone while this process owns it). Registered first, so it runs after the process is stopped.
  if (detached) teardown.defer('close the handoff pipe to the monitor', () => closeSync(child.handoffFd));
  // The process undo comes first, before anything else can throw (see HeldChild.stop).
  const held = new HeldChild(addon, child, (status) => {
    try {
      state.writeExitRecord(status);
    } catch (cause) {
      warn(`record the exit status: ${messageOf(cause)}`); // the run still reports it; the record will say 137
    }
  });
  teardown.defer(`stop container process ${child.pid}`, () => held.stop());
  crashPoint('spawn');
  record(state, { kind: 'process', ...held.ref });
  // Into its cgroup while the network is built (see joinCgroups); done before the release.
  const joining = joinCgroups(cgroups.map((c) => c.dir), child.pid).then(
    () => null,
    (cause: unknown) => stepError('place the container in its cgroup', cgroups.map((c) => c.dir).join(', '), cause),
  );
  // Should a later step fail, the process is stopped (and reaped) only once the join has settled: a pid reused in
  // between must never be written into the container's cgroup.
  teardown.defer('let the cgroup join settle', async () => {
    await joining;
  });
  const flags = `CLONE_NEWPID|CLONE_NEWNS|CLONE_NEWUTS|CLONE_NEWIPC${spec.network === 'host' ? '' : '|CLONE_NEWNET'}`;
  report.step(
    'clone',
    `clone3(${flags}) → pid ${child.pid}${detached ? `, child of minictr-monitor (pid ${child.monitorPid}, after a double fork)` : ''}; ` +
      'it waits on the release pipe while the host side is built',
  );

  // 4. Host network: one ip batch (bridge if missing, veth pair with eth0 created inside the child's netns, host
  //    end on the bridge) followed by the eBPF veth filter (loopback guard, anti-spoofing) on the host end, and, at
  //    the same time, forwarding on and one nft call that adds this container's published ports and lists the table (whose base rules are
  //    re-applied only when missing or outdated). Neither needs the other's objects (the rules name the bridge, not
  //    the veth), so ip and nft run side by side and the step costs the slower of the two.
  //    No undo for the veth: the kernel deletes it with the namespace when step 3's undo stops the process; the
  //    ports' undo was registered with their claim in step 2.
  if (address !== null) {
    const network = hostNetwork(plan, address, child.pid);
    const { veth } = network;
    record(state, { kind: 'veth', name: veth });
    const bridgeLines = linkExists(BRIDGE) ? [] : network.bridgeLines;
    const natFailed = (cause: unknown) => stepError('set up NAT and published ports', `for ${address}`, cause);
    let linksDone = 0;
    let guarded = false;
    const links = (async () => {
      try {
        await ipBatch([...bridgeLines, ...network.vethLines], isBridgeRace);
      } catch (cause) {
        throw stepError('create veth', `${veth} on ${BRIDGE} (eth0 in the netns of pid ${child.pid})`, cause);
      }
      try {
        guarded = await attachVethFilter(addon, veth, network.identity);
      } catch (cause) {
        throw stepError('attach the veth filter (loopback guard, anti-spoofing)', `to ${veth}`, cause);
      }
      linksDone = performance.now();
    })();
    const firewall = (async () => {
      try {
        ensureForwarding();
        try {
          return await ensureRuleset(spec.subnet, BRIDGE, network.publishLines);
        } catch (cause) {
          // "File exists": a stale element holds one of these ports (see removeStalePublished). This run holds the
          // port now, so the element is nobody's: remove it and publish once more.
          if (!(cause instanceof CommandError && /File exists/.test(cause.stderr))) throw cause;
          await removeStalePublished();
          return await ensureRuleset(spec.subnet, BRIDGE, network.publishLines);
        }
      } catch (cause) {
        throw natFailed(cause);
      }
    })();
    const [linksResult, firewallResult] = await Promise.allSettled([links, firewall]);
    if (linksResult.status === 'rejected') {
      if (firewallResult.status === 'rejected') warn(messageOf(firewallResult.reason));
      throw linksResult.reason;
    }
    crashPoint('veth'); // only now: a crash must not leave an nft transaction in flight behind it
    if (firewallResult.status === 'rejected') throw firewallResult.reason;
    // Settings of the bridge, which the ip batch may have just created, before any container is released:
    // route_localnet only where the loopback guard holds; no router advertisements learned.
    try {
      setRouteLocalnet(guarded);
      ensureNoRouterAdvertisements();
    } catch (cause) {
      throw natFailed(cause);
    }
    if (!guarded && spec.ports.length > 0) {
      warn(`this kernel has no tcx (Linux 6.6) for the loopback guard: route_localnet stays off, so 127.0.0.1 does not reach published ports`);
    }
    crashPoint('nat');
    report.step(
      'veth',
      `ip -batch: ${bridgeLines.length > 0 ? `bridge ${BRIDGE} ${formatIpv4(spec.subnet.gateway)}/${spec.subnet.prefixLength} created; ` : ''}` +
        `host end ${veth} joins ${BRIDGE} (hairpin on)${guarded ? ', veth filter on its tcx ingress' : ''}; container end eth0 created directly in the netns of pid ${child.pid}`,
      linksDone,
    );
    const published = spec.ports.map((mapping) => describeMapping(mapping, address)).join(', ');
    report.step(
      'nat',
      `ip_forward=1; while ip runs, ` +
        (published ? `one nft call publishes ${published} (map elements, DNAT in prerouting and output) and lists` : 'nft lists') +
        ` the table: the base ruleset (masquerade ${spec.subnet.toString()} leaving by other interfaces) ` +
        (firewallResult.value ? 'was missing or outdated, applied' : 'is in place'),
    );
  }
  signals.check();

  const joinFailure = await joining;
  if (joinFailure !== null) throw joinFailure;

  // 5. Release: the child runs its own steps and execs; a failure comes back as {step, errno}.
  const failure = await held.release();
  if (failure !== null) throw childError(failure, plan, state);
  started = true;
  crashPoint('released');
  terminal?.start(spec.interactive);
  report.step(
    'go→exec',
    `"go" on the release pipe; the child: sethostname ${plan.hostname}, lo up` +
      (address === null ? '' : `, eth0 ${address}/${spec.subnet.prefixLength} and default via ${formatIpv4(spec.subnet.gateway)} (ioctl)`) +
      `, overlay on ${spec.rootfs}${plan.mounts.length > 0 ? `, ${plan.mounts.length} volume mount(s)` : ''}, pivot_root, /proc /dev /sys, /etc files, chdir ${spec.workdir}, setsid, ` +
      `execveat minictr-init's sealed copy, which ${spec.init ? `runs ${plan.execPath} as its child` : `execs ${plan.execPath}`}`,
  );

  // 6. Detached: the monitor owns the container from here on. The record names it before the handoff byte, so at
  //    every instant the container has exactly one living owner (or none, and gc takes over). Should this process
  //    die before the byte, the monitor kills PID 1 (released or not) and its cleanup tears the container down,
  //    as the owner the record names or in place of a dead one.
  if (detached) {
    const monitor = { pid: child.monitorPid, startTime: startTimeOf(child.monitorPid) ?? 0 };
    state.update({ status: 'running', startedAt: new Date().toISOString(), owner: monitor });
    crashPoint('handoff');
    teardown.handOver();
    try {
      writeSync(child.handoffFd, 'y');
    } catch (cause) {
      // EPIPE: the monitor is already gone (an `rm -f` right after the record named it); the container is its.
      if ((cause as NodeJS.ErrnoException).code !== 'EPIPE') throw cause;
    }
    closeSync(child.handoffFd);
    report.step('detach', `state.json names minictr-monitor (pid ${monitor.pid}) as owner; the handoff pipe closes`);
    return { id, status: null };
  }
  state.update({ status: 'running', startedAt: new Date().toISOString() });
  signals.forwardTo(child.pid);
  crashPoint('running');

  // 7. Wait for PID 1 to exit; signals sent to minictr meanwhile are forwarded to it.
  const status = await held.exited;
  signals.stopForwarding(); // the pid is reaped: it may belong to another process from now on
  report.step('run', status.signal === null ? `PID 1 exited with status ${status.exitCode}` : `PID 1 killed by signal ${status.signal}`);
  return { id, status };
}
