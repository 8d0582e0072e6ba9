// `minictr run`, as a short list of steps, in the order of steps.ts's RUN_STEPS (whose labels the comments below
// use, and which also names --explain's and --timings' lines and the crash points). This file owns the order;
// each step's mechanics live in its own module. Everything the container needs is decided before the first
// acquisition (validate, plan.ts), and the journal records each host object before it is created, so the teardown
// at the end, or gc's after a crash, restores the host from the same record (journal.ts). The undo stack in
// memory holds only what no journal records: the terminal, the handoff pipe and the held PID 1. With --step, the
// run waits for Enter before each step (pause, step-mode.ts).
//
// -d changes two steps: at clone the container's parent is minictr-monitor, not this process (see
// native/src/spawn.cc), and at detach the record names the monitor as owner, the handoff pipe closes and this
// process exits; when PID 1 exits, the monitor execs `minictr cleanup ID`, which tears it down from the journal.

import { closeSync, writeSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { childStepError, messageOf, MinictrError, stepError, UsageError } from '../errors.js';
import { warn } from '../log.js';
import { attach, type Attached, type NetworkPlan } from '../network/attach.js';
import { ipLines } from '../network/links.js';
import { tcLines } from '../network/veth-filter.js';
import { BRIDGE, CONTAINER_IFNAME, NFT_FAMILY, NFT_TABLE } from '../network/names.js';
import { ensureResolver } from '../network/dns/resolver-process.js';
import { writeEndpoint } from '../network/dns/records.js';
import { networkExists, networkIpv6, networkLeases, networkLeases6, networkStateDir } from '../network/networks.js';
import { loadNftablesAhead } from '../network/firewall.js';
import { mappings6 } from '../network/network-firewall.js';
import { startProxy } from '../network/loopback-proxy.js';
import { parseIpv6 } from '../network/subnet6.js';
import { describeMapping } from '../network/ports.js';
import { helperPath, nativeAddon, type ChildFailure, type ExitStatus, type NativeAddon, type SpawnOptions } from '../native/index.js';
import { shortId } from '../ids.js';
import { selfRef, startTimeOf, type ProcessRef } from '../sys/proc.js';
import { isoTimestamp } from '../sys/timestamp.js';
import type { Teardown } from '../teardown.js';
import { mainStartedAt } from '../startup.js';
import { cgroupV2, CLONE_INTO_CGROUP_CALL, createCgroups, openCgroupEntry, planCgroups, spawnWithCgroup } from './cgroups.js';
import { crashPoint } from './crash.js';
import { explainCgroup, explainImage, explainProfile } from './explain.js';
import { claimRecovering, collectIfNamesAbandoned, removeStalePublished } from './gc.js';
import { HeldChild, holdingSignals } from './held-child.js';
import { tearDown } from './journal.js';
import { prepareMounts } from './mounts.js';
import { gatewayOf, hostNetwork, planRun, securityOptions, spawnOptions, type Plan } from './plan.js';
import { leases, names, ports } from './registries.js';
import { RunReport } from './report.js';
import { resetInProgress } from './reset.js';
import type { StepMode } from './step-mode.js';
import type { RunStep } from './steps.js';
import type { SignalRelay } from './signals.js';
import type { RunSpec } from './spec.js';
import { ContainerState, type JournalEntry } from './state.js';
import { TerminalRelay } from './terminal.js';

export type { ExitStatus } from '../native/index.js';

/** A child step that failed, as an error naming the step and its object, with Docker's exit-code kind. */
function childError(failure: ChildFailure, run: Run, state: ContainerState): MinictrError {
  const { plan } = run;
  const objects: Record<string, string> = {
    "join the container's cgroup": run.cgroups.join(', '),
    exec: plan.execPath,
    'set hostname': plan.hostname,
    'configure interface': CONTAINER_IFNAME,
    'add default route': `via ${gatewayOf(plan.spec)}`,
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
    throw acquisitionError(step, cause);
  }
}

function acquisitionError(step: string, cause: unknown): Error {
  return cause instanceof UsageError ? cause : new MinictrError(`${step}: ${messageOf(cause)}`, 'failure', cause);
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

/** A run under way: what its teardown needs to know. */
interface Run {
  plan: Plan;
  addon: NativeAddon;
  teardown: Teardown;
  signals: SignalRelay;
  report: RunReport;
  /** Once created: the container's state directory, and its journal. */
  state: ContainerState | null;
  /** Once PID 1 has exec'd: the container is then kept as exited (with its name) at the end, unless --rm. */
  started: boolean;
  /** --step: the prompts on the caller's terminal. */
  step: StepMode | null;
  /** On a dual-stack network, once leased: the container's IPv6 address. */
  address6: string | null;
  /** Once made: the container's cgroup directories. */
  cgroups: string[];
}

/** Runs the container to completion (or, detached, until it runs) and returns how its PID 1 ended. */
export async function runContainer(spec: RunSpec): Promise<RunOutcome> {
  const report = new RunReport({ explain: spec.explain, startup: mainStartedAt });
  const plan = await planRun(spec);
  const addon = nativeAddon(); // a missing addon or helper is reported before anything exists
  if (spec.network === 'bridge' && spec.ports.length > 0) loadNftablesAhead(); // publishing needs it, at veth
  helperPath('minictr-init');
  if (spec.detach) helperPath('minictr-monitor');
  if (networkIpv6(spec.userNetwork) !== null && mappings6(spec.ports).length > 0) helperPath('minictr-proxy');
  // Loaded only for --step (it brings node:tty), as a run without it needs none of it.
  const step = spec.step ? (await import('./step-mode.js')).StepMode.open() : null;
  report.step('validate', `flags, rootfs ${spec.rootfs}, command "${spec.argv[0]}" found at ${plan.execPath}`);
  report.detail(explainImage(spec));
  let run: Run | undefined;
  return holdingSignals(
    (teardown, signals) => {
      if (step !== null) teardown.defer('close the terminal of --step', () => step.close());
      return execute((run = { plan, addon, teardown, signals, report, state: null, started: false, step, address6: null, cgroups: [] }));
    },
    async (failures, teardown) => {
      // teardown: what is kept in memory is undone first (PID 1 stopped and reaped), then the journal.
      if (run?.state && !teardown.handedOver) {
        failures.push(...(await tearDown(run.state, { keep: run.started && !spec.autoRemove, reaped: failures.length === 0 })));
      }
      for (const failure of failures) warn(`teardown: ${failure.message}`);
      report.step('teardown', `the undos in memory, then the journal, last first${failures.length > 0 ? `, ${failures.length} failed` : ''}; the kernel removes the veth pair with the network namespace`);
      if (spec.timings !== null) process.stderr.write(report.render(spec.timings));
    },
  );
}

/**
 * The steps after validate, in RUN_STEPS's order, each named by its label; teardown follows in runContainer,
 * whatever happens here.
 */
async function execute(run: Run): Promise<RunOutcome> {
  // 1. state   2. volumes   3. address (and the cgroup)
  await pause(run, 'state');
  const state = await createState(run);
  run.step?.know({ state: state.dir });
  if (run.plan.mounts.length > 0) await pause(run, 'volumes');
  prepareVolumes(run, state);
  await pause(run, 'address');
  const address = await acquireAddress(run, state);
  const cgroups = (run.cgroups = await createCgroup(run, state));
  if (address !== null) {
    const network = run.plan.spec.userNetwork;
    run.step?.know({
      leases: (network === null ? leases() : networkLeases(network)).files.dir,
      bridge: network === null ? BRIDGE : network.bridge,
      table: `${NFT_FAMILY} ${NFT_TABLE}`,
    });
  }
  if (cgroups.length > 0) run.step?.know({ cgroup: cgroups[0]! });
  run.signals.check();
  // 4. clone (into its cgroup)   5. veth, nat
  await pause(run, 'clone');
  const held = spawnContainer(run, state, address);
  run.step?.know({ pid: String(held.pid) });
  try {
    if (address !== null) {
      await pause(run, 'veth');
      await attachNetwork(run, state, address, held.pid);
    }
    run.signals.check();
  } catch (cause) {
    // A child that failed on its own first (its cgroup) took its network namespace with it: its failure is the cause.
    throw held.abort((failure) => childError(failure, run, state)) ?? cause;
  }
  // 6. go→exec   7. detach (-d), or run
  await pause(run, 'go→exec');
  run.step?.close();
  await release(run, state, held, address);
  if (held.child.monitorPid > 0) return handOver(run, state, held);
  return { id: run.plan.id, status: await wait(run, state, held) };
}

/** --step: waits for Enter before `step`; a signal meanwhile stops the run here. */
async function pause(run: Run, step: RunStep): Promise<void> {
  if (run.step === null) return;
  run.signals.check(); // a signal during the step before: no prompt
  await run.step.before(step, { last: step === 'go→exec' });
  run.signals.check();
}

/** Records `entry` in the journal, before the object it names is created. */
function journaled<T extends JournalEntry>(state: ContainerState, entry: T): T {
  state.journal(entry);
  return entry;
}

/**
 * state: this container's directory, its writable layer and its name. No gc first: a claim that a dead container
 * blocks runs one (claimRecovering). The directory exists before the reset check: a reset that began before it is
 * seen here, one that begins after it sees this container (see reset.ts).
 */
async function createState(run: Run): Promise<ContainerState> {
  const { plan, report } = run;
  const { spec, id } = plan;
  const state = ContainerState.create({
    id,
    name: spec.name,
    owner: selfRef(),
    createdAt: isoTimestamp(),
    argv: spec.argv,
    network: spec.userNetwork?.name ?? spec.network,
    config: {
      rootfs: spec.rootfs,
      image: spec.image,
      hostname: plan.hostname,
      env: plan.env,
      workdir: spec.workdir,
      security: securityOptions(plan),
      stopSignal: spec.stopSignal,
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
  run.state = state;
  if (resetInProgress()) throw new MinictrError('minictr system reset is under way: run again once it is done');
  crashPoint('state');
  journaled(state, { kind: 'layer', dir: state.layerDir });
  state.createLayer(spec.rootfs);
  if (spec.name !== null) {
    journaled(state, { kind: 'name', name: spec.name });
    await claimRecovering(() => acquire(`claim name ${spec.name}`, () => names().claim(id, spec.name!)));
    crashPoint('name');
  }
  report.step(
    'state',
    `${state.dir}: state.json names this process as owner; the journal records each host object before it exists; writable layer ${state.layerDir}`,
  );
  return state;
}

/**
 * volumes: made where missing (anonymous ones journaled first), seeded by their first container, -v host directories
 * created. The record names them all, so no `volume rm` takes one from under this run.
 */
function prepareVolumes(run: Run, state: ContainerState): void {
  const { plan, report } = run;
  if (plan.mounts.length === 0) return;
  const root = plan.spec.image === null ? plan.spec.rootfs : plan.spec.layers;
  const made = acquire('prepare volumes', () => prepareMounts(plan.mounts, root, (name) => journaled(state, { kind: 'volume', name })));
  report.step('volumes', `${made.join('; ')}; the child mounts them on paths resolved inside the new root (openat2 RESOLVE_IN_ROOT, /proc/self/fd)`);
}

/**
 * address: a lease in the subnet (journaled once taken, since the entry names the address; gc also reclaims
 * leases whose container directory is gone), then the published host ports. null: --network host.
 */
async function acquireAddress(run: Run, state: ContainerState): Promise<string | null> {
  const { spec, id } = run.plan;
  if (spec.network !== 'bridge') return null;
  const network = spec.userNetwork;
  const leaseTable = network === null ? leases() : networkLeases(network);
  const address = await claimRecovering(() => acquire('lease an address', () => leaseTable.claim(id, spec.requestedIp)));
  crashPoint('lease');
  journaled(state, { kind: 'lease', address, ...(network !== null ? { network: network.name } : {}) });
  const leaseTable6 = network === null ? null : networkLeases6(network);
  if (network !== null && leaseTable6 !== null) {
    const requested6 = spec.requestedIp6 === null ? null : parseIpv6(spec.requestedIp6);
    const address6 = await claimRecovering(() => acquire('lease an IPv6 address', () => leaseTable6.claim(id, requested6)));
    journaled(state, { kind: 'lease', address: address6, network: network.name });
    run.address6 = address6;
  }
  if (network !== null) {
    // A `network rm` that checked for users before this lease took the network away: nothing to join.
    if (!networkExists(network)) throw new UsageError(`network ${network.name} was removed meanwhile`);
    const names = [run.plan.hostname, shortId(id), ...(spec.name !== null ? [spec.name] : []), ...spec.aliases];
    await collectIfNamesAbandoned(networkStateDir(network), names);
    acquire('write the DNS record', () => writeEndpoint(networkStateDir(network), { id, address, ...(run.address6 !== null ? { address6: run.address6 } : {}), names, dns: spec.dns }));
  }
  if (spec.ports.length > 0) {
    // Claimed, then journaled with the host ports chosen for -P and -p CONTAINER_PORT (as the lease: gc releases
    // the claims of a container gone before journaling them). The later steps publish the chosen ports.
    try {
      const requested = spec.ports;
      spec.ports = await claimRecovering(() => ports().claim(id, requested));
    } catch (cause) {
      throw acquisitionError('claim host ports', cause);
    }
    const ipv6 = network !== null && run.address6 !== null ? { ipv6: { bridge: network.bridge, address: run.address6 } } : {};
    journaled(state, { kind: 'ports', address, mappings: spec.ports, ...ipv6 });
    crashPoint('ports');
  }
  const claimed = spec.ports.map((m) => `${m.protocol}-${m.hostPort}`).join(', ');
  run.report.step('address', `lease ${address}${run.address6 !== null ? ` and ${run.address6}` : ''}: O_EXCL file in ${leaseTable.files.dir}${claimed ? `; host ports ${claimed} claimed likewise` : ''}`);
  return address;
}

/** Resource limits and the device policy: the cgroup exists, configured, before the child does. */
async function createCgroup(run: Run, state: ContainerState): Promise<string[]> {
  const cgroups = planCgroups(run.plan.id, run.plan.spec.limits, run.plan.deviceRules);
  run.report.detail(explainCgroup(cgroups)); // under address, whose time includes it
  if (cgroups.length === 0) return [];
  const dirs = journaled(state, { kind: 'cgroup', dirs: cgroups.map((c) => c.dir) }).dirs;
  try {
    await createCgroups(cgroups);
  } catch (cause) {
    throw stepError('create cgroup', dirs.join(', '), cause);
  }
  return dirs;
}

/**
 * clone: the child exists in its namespaces and its cgroups (openCgroupEntry), blocked until released. Its exit is
 * watched from now on, by this process, or detached by its monitor.
 */
function spawnContainer(run: Run, state: ContainerState, address: string | null): HeldChild {
  const { plan, addon, teardown, report, cgroups } = run;
  const { spec } = plan;
  const dirs = { upper: state.upperDir, work: state.workDir, merged: state.mergedDir };
  const held = HeldChild.spawn(addon, teardown, {
    tty: spec.tty && !spec.detach, // detached: the monitor's
    spawn: () => {
      const child = spawnWithCgroup(
        () => openCgroupEntry(cgroups),
        (cgroup) => {
          try {
            return addon.spawn({ ...spawnOptions(plan, dirs, address, run.address6), ...processOptions(plan, state), cgroup });
          } catch (cause) {
            // cgroup v2: the kernel refused to clone it into its cgroup. Kernels before 5.7 do not know the flag
            // (clone3 answers E2BIG): no fallback to cgroup.procs, which is what this avoids.
            const { syscall, code } = cause as NodeJS.ErrnoException;
            if (syscall !== CLONE_INTO_CGROUP_CALL) throw cause;
            throw stepError(code === 'E2BIG' ? 'clone into cgroup (CLONE_INTO_CGROUP needs Linux 5.7)' : 'clone into cgroup', cgroups.join(', '), cause);
          }
        },
      );
      // Detached: closing the handoff lets the monitor run `minictr cleanup` after PID 1 exits (which leaves the
      // container alone while this process owns it). Registered first, so it runs after the process is stopped.
      if (child.monitorPid > 0) teardown.defer('close the handoff pipe to the monitor', () => closeSync(child.handoffFd));
      return child;
    },
    onExit: (status) => {
      try {
        state.writeExitRecord(status);
      } catch (cause) {
        warn(`record the exit status: ${messageOf(cause)}`); // the run still reports it; the record will say 137
      }
    },
  });
  crashPoint('spawn');
  journaled(state, { kind: 'process', ...held.ref });
  const { monitorPid } = held.child;
  const v2 = cgroups.length > 0 && cgroupV2();
  const flags = `CLONE_NEWPID|CLONE_NEWNS|CLONE_NEWUTS|CLONE_NEWIPC${spec.network === 'host' ? '' : '|CLONE_NEWNET'}${v2 ? '|CLONE_INTO_CGROUP' : ''}`;
  // v1's directories are /sys/fs/cgroup/CONTROLLER/…
  const joins = cgroups.length === 0 || v2 ? '' : `it joins its cgroups (${cgroups.map((dir) => dir.split('/')[4]).join(', ')}: "0" into each tasks file), then `;
  report.step(
    'clone',
    `clone3(${flags}|CLONE_VM|CLONE_VFORK) → pid ${held.pid}${monitorPid > 0 ? `, child of minictr-monitor (pid ${monitorPid}, after a double fork)` : ''}; ` +
      `it execveat()s minictr-init's sealed copy, which reads its config from a memfd; ${joins}it waits on the release pipe while the host side is built`,
  );
  return held;
}

/**
 * veth and nat: network/attach.ts, once the veth is journaled, and beside it, on a dual-stack network, the proxy
 * of the ports published on [::1]. No undo for the veth: the kernel deletes it with the namespace when PID 1 is
 * stopped; the ports' undo is their journal entry, the proxy's its own.
 */
async function attachNetwork(run: Run, state: ContainerState, address: string, pid: number): Promise<void> {
  const { plan, addon, report } = run;
  const { spec } = plan;
  const network: NetworkPlan = hostNetwork(plan, address, pid, run.address6);
  journaled(state, { kind: 'veth', name: network.veth });
  const proxying = startLoopbackProxy(run, state);
  const proxySettled = proxying.then(() => undefined, () => undefined); // its failure is thrown below, not unhandled
  let attached: Attached;
  try {
    attached = await attach(addon, network, pid, { removeStalePublished, checkpoint: crashPoint });
  } catch (cause) {
    await proxySettled; // journaled once it runs: the teardown ends it
    throw cause;
  }
  const proxy = await proxying;
  if (spec.userNetwork !== null) await ensureResolver(spec.userNetwork);
  const links = [...(attached.bridgeCreated ? [network.bridgeLink] : []), network.vethLink];
  report.step(
    'veth',
    `netlink: ${attached.bridgeCreated ? `bridge ${network.bridge} ${gatewayOf(spec)}/${spec.subnet.prefixLength} created; ` : ''}` +
      `host end ${network.veth} joins ${network.bridge} (hairpin on), veth filter on its clsact ingress; container end eth0 created directly in the netns of pid ${pid}`,
    attached.linksDone,
  );
  report.detail([
    ['ip', `the same as: ip -batch: ${links.flatMap(ipLines).join('; ')}`],
    ['tc', `the same as: tc -batch: ${tcLines(network.veth).join('; ')}`],
    ...attached.netlink.map((message): [string, string] => ['netlink', message]),
  ]);
  const published = spec.ports.map((mapping) => describeMapping(mapping, address)).join(', ');
  report.step(
    'nat',
    `ip_forward=1; while the links are made, ` +
      (published ? `libnftables publishes ${published} (map elements, DNAT in prerouting and output, one transaction) and checks` : 'libnftables checks') +
      ` the table: the base ruleset (masquerade ${spec.subnet.toString()} leaving by other interfaces) ` +
      (attached.rulesetApplied ? 'was missing or outdated, applied' : 'is in place') +
      (proxy === null ? '' : `; minictr-proxy (pid ${proxy.pid}, nobody, no capabilities) listens on [::1] for ${mappings6(spec.ports).map((m) => `${m.hostPort}/${m.protocol}`).join(', ')}`),
  );
}

/**
 * The ports published over IPv6 on [::1], which kernel DNAT cannot serve: minictr-proxy, bound on each before
 * the container is released. Journaled once it answers ready, then committed (see network/loopback-proxy.ts).
 * null: no such port.
 */
async function startLoopbackProxy(run: Run, state: ContainerState): Promise<ProcessRef | null> {
  const mappings = mappings6(run.plan.spec.ports);
  if (run.address6 === null || mappings.length === 0) return null;
  const proxy = await startProxy(mappings, run.address6);
  journaled(state, { kind: 'proxy', ...proxy.ref });
  proxy.commit();
  return proxy.ref;
}

/** go→exec: the child runs its own steps and execs; a failure comes back as {step, errno}. */
async function release(run: Run, state: ContainerState, held: HeldChild, address: string | null): Promise<void> {
  const { plan, report } = run;
  const { spec } = plan;
  await held.go(spec.interactive, (failure) => childError(failure, run, state));
  run.started = true;
  crashPoint('released');
  report.step(
    'go→exec',
    `"go" on the release pipe; the child: sethostname ${plan.hostname}, lo up` +
      (address === null ? '' : `, eth0 ${address}/${spec.subnet.prefixLength} and default via ${gatewayOf(spec)} (ioctl)`) +
      `, overlay on ${spec.rootfs}${plan.mounts.length > 0 ? `, ${plan.mounts.length} volume mount(s)` : ''}, pivot_root, /proc /dev /sys, /etc files, chdir ${spec.workdir}, setsid, ` +
      `then minictr-init ${spec.init ? `runs ${plan.execPath} as its child` : `execs ${plan.execPath}`}`,
  );
  report.detail(explainProfile(plan));
}

/**
 * detach: the monitor owns the container from here on. The record names it before the handoff byte, so at every
 * instant the container has exactly one living owner (or none, and gc takes over). Should this process die before
 * the byte, the monitor kills PID 1 (released or not) and its cleanup tears the container down, as the owner the
 * record names or in place of a dead one.
 */
function handOver(run: Run, state: ContainerState, held: HeldChild): RunOutcome {
  const { monitorPid, handoffFd } = held.child;
  const monitor = { pid: monitorPid, startTime: startTimeOf(monitorPid) ?? 0 };
  state.update({ status: 'running', startedAt: isoTimestamp(), owner: monitor });
  crashPoint('handoff');
  run.teardown.handOver();
  try {
    writeSync(handoffFd, 'y');
  } catch (cause) {
    // EPIPE: the monitor is already gone (an `rm -f` right after the record named it); the container is its.
    if ((cause as NodeJS.ErrnoException).code !== 'EPIPE') throw cause;
  }
  closeSync(handoffFd);
  run.report.step('detach', `state.json names minictr-monitor (pid ${monitor.pid}) as owner; the handoff pipe closes`);
  return { id: run.plan.id, status: null };
}

/** run: wait for PID 1 to exit; signals sent to minictr meanwhile are forwarded to it. */
async function wait(run: Run, state: ContainerState, held: HeldChild): Promise<ExitStatus> {
  state.update({ status: 'running', startedAt: isoTimestamp() });
  crashPoint('running');
  const status = await held.wait(run.signals, { init: true, what: 'the container' });
  run.report.step('run', status.signal === null ? `PID 1 exited with status ${status.exitCode}` : `PID 1 killed by signal ${status.signal}`);
  return status;
}
