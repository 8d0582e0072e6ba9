// `minictr exec`: another process in a running container, as the container's own: in all of its namespaces, its
// root, its cgroup, with its environment, working directory, user and security profile (each overridable by flag).
//
// Node never calls setns() itself (a multithreaded process cannot join a mount namespace), and nothing of Node may
// ever be visible inside the container (a container keeping CAP_SYS_PTRACE could open its binary through
// /proc/PID/exe and read minictr's environment). The addon forks a joiner that at once execs a sealed copy of
// minictr-init with an empty environment; that joins the container's cgroups, namespaces and root and clones the
// process with CLONE_PARENT, so it is this process's child, blocked on its release pipe exactly like a container's
// PID 1 (native/src/spawn.cc, SpawnExec; native/src/join.cc). Then:
//   (1) validation   the container runs; user and command resolved inside its root (/proc/PID/root)
//   (2) spawn        the joiner, with the request (./join-request.ts); the process waits in the container
//   (3) release      it applies the profile and execs; failures come back as {step, errno}
//   (4) wait         signals to minictr are forwarded to it until it exits
// Nothing is journaled: the process dies with the container's PID namespace, or with minictr (PDEATHSIG).

import { childStepError, MinictrError, stepError } from '../errors.js';
import { warn } from '../log.js';
import { helperPath, nativeAddon, type ExitStatus } from '../native/index.js';
import { HeldChild, holdingSignals } from './held-child.js';
import { currentContainers, isRunning, resolveContainer } from './lookup.js';
import { CLONE_INTO_CGROUP_CALL, execCgroups, spawnWithCgroup } from './cgroups.js';
import { encodeJoinRequest } from './join-request.js';
import { findCommand } from './rootfs.js';
import { ContainerState } from './state.js';
import { StdioRelay } from './stdio-relay.js';
import { TerminalRelay } from './terminal.js';
import { resolveUser } from './users.js';

export interface ExecSpec {
  container: string;
  argv: string[];
  /** KEY=VALUE pairs added to (or replacing in) the container's environment. */
  env: string[];
  workdir: string | null;
  user: string | null;
  tty: boolean;
  interactive: boolean;
}

/** The container's environment with `extra` applied: a key given again replaces the container's value. */
function mergeEnv(base: readonly string[], extra: readonly string[]): string[] {
  const key = (entry: string) => entry.slice(0, entry.indexOf('='));
  const overridden = new Set(extra.map(key));
  return [...base.filter((entry) => !overridden.has(key(entry))), ...extra];
}

export async function execInContainer(spec: ExecSpec): Promise<ExitStatus> {
  // 1. Validation: a running container, and the user and command as its root resolves them.
  const container = resolveContainer(spec.container, await currentContainers({ all: true }));
  if (!isRunning(container)) throw new MinictrError(`container ${spec.container} is not running`, 'lookup');
  const pid = container.process!.pid;
  const state = new ContainerState(container.id, container.dir);
  const { config, network } = state.record();
  const root = `/proc/${pid}/root`;
  const user = spec.user === null ? null : resolveUser(root, spec.user, `container ${spec.container}`);
  const env = mergeEnv(config.env, user === null ? spec.env : [`HOME=${user.home}`, ...spec.env]);
  const workdir = spec.workdir ?? config.workdir;
  const path = env.find((entry) => entry.startsWith('PATH='))?.slice('PATH='.length) ?? '';
  const execPath = findCommand(root, spec.argv[0]!, path, workdir);
  const cgroups = state.entries().flatMap((entry) => (entry.kind === 'cgroup' ? entry.dirs : []));
  const addon = nativeAddon();
  const helper = helperPath('minictr-init');

  return holdingSignals(
    async (teardown, signals) => {
      // 2. Spawn: the process waits, in the container and its cgroups, for its release.
      const relay = spec.tty ? null : StdioRelay.create(addon, spec.interactive);
      if (relay !== null) teardown.defer('end the stdio relay', () => relay.finish());
      const joining = execCgroups(cgroups);
      const request = encodeJoinRequest({
        joinNetwork: network !== 'host',
        cgroups: joining.requested,
        workdir,
        security: { ...config.security, user: user === null ? config.security.user : { uid: user.uid, gid: user.gid } },
        terminal: spec.tty ? TerminalRelay.size() : null,
        execPath,
        argv: spec.argv,
        env,
      });
      const objects: Record<string, string> = {
        exec: execPath,
        'enter working directory': workdir,
        "join the container's cgroup": cgroups.join(', '),
        [CLONE_INTO_CGROUP_CALL]: cgroups.join(', '),
      };
      const held = HeldChild.spawn(addon, teardown, {
        tty: spec.tty,
        spawn: () => {
          try {
            const child = spawnWithCgroup(joining.open, (cgroup) =>
              addon.spawnExec({
                pid,
                startTime: container.process!.startTime,
                helper,
                terminal: spec.tty,
                request,
                stdio: relay?.stdio ?? [-1, -1, -1],
                cgroup,
              }),
            );
            relay?.spawned();
            return child;
          } catch (cause) {
            // A step of the joiner that failed comes back as the error's syscall.
            const step = (cause as NodeJS.ErrnoException).syscall ?? '';
            const object = objects[step] === undefined ? spec.container : `${spec.container} (${objects[step]})`;
            throw stepError('exec in container', object, cause);
          }
        },
      });
      signals.check();

      // 3. Release: security profile, stdio, exec.
      await held.go(spec.interactive, (failure) => childStepError(failure, objects[failure.step]));

      // 4. Wait.
      return held.wait(signals, { init: false, what: "the exec'd process" });
    },
    async (failures) => {
      for (const failure of failures) warn(`exec: ${failure.message}`);
    },
  );
}
