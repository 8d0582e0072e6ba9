// The exact shape of the native addon's exports (native/src/addon.cc). The addon validates every argument itself;
// these types keep the TypeScript side honest at compile time.

export interface InterfaceConfig {
  /** Name of the container's end of the veth, already present in its namespace when it is released. */
  name: string;
  address: string;
  prefixLength: number;
  gateway: string;
}

export interface SpawnOptions {
  /** false for --network host: the container shares the host's network namespace. */
  newNetwork: boolean;
  hostname: string;
  /** null: lo only (--network none or host). */
  interface: InterfaceConfig | null;
  /** volatile: the upper layer is never synced (overlayfs's option, Linux 5.10). */
  overlay: { lower: string; upper: string; work: string; target: string; volatile: boolean };
  /** Written by the child inside the container's root just before exec. Paths start with /etc/. */
  etcFiles: { path: string; content: string }[];
  workdir: string;
  /** The default security profile (masked paths, capabilities, no_new_privs) unless privileged. */
  security: {
    privileged: boolean;
    capabilities: number[];
    /** Remount the root read-only just before exec. */
    readOnly: boolean;
    /** Run as this uid:gid (no supplementary groups); null: stay root. */
    user: { uid: number; gid: number } | null;
  };
  /** Path of the program inside the container's root, already resolved against PATH. */
  execPath: string;
  argv: string[];
  env: string[];
  /**
   * The host's minictr-init. The command is exec'd through a sealed in-memory copy of it, so that /proc/self/exe
   * never points at a host file while it starts (see native/src/init.cc).
   */
  helper: string;
  /** --init: minictr-init stays as PID 1 and runs the command as its child. */
  init: boolean;
  /**
   * -t: the child opens a pseudo-terminal of this size in the container's devpts, makes it its stdio and
   * controlling terminal, and sends the controller end back (see consoleFd); null: no terminal.
   */
  terminal: TerminalSize | null;
  /**
   * -d: minictr-monitor becomes the container's parent (fds 3-9: stdout and stderr pipes, handoff, pidfd, the log
   * file opened here at `log`, -t's console socket, -i's stdin pipe when `keepStdin`) and runs argv
   * ("EXIT -- CLEANUP...") with env; null: the container is this process's child.
   */
  monitor: { path: string; log: string; keepStdin: boolean; argv: string[]; env: string[] } | null;
}

export interface TerminalSize {
  rows: number;
  columns: number;
}

/** `minictr exec`: a process joining the running container whose PID 1 is `pid` (see SpawnExec in spawn.cc). */
export interface ExecOptions {
  pid: number;
  /** The start time of that process (/proc/PID/stat field 22), checked once it is pinned by a pidfd. */
  startTime: number;
  /** false when the container shares the host's network namespace (--network host). */
  joinNetwork: boolean;
  security: SpawnOptions['security'];
  workdir: string;
  execPath: string;
  argv: string[];
  env: string[];
  /** As in SpawnOptions: the command is exec'd through a sealed copy of minictr-init. */
  helper: string;
  terminal: TerminalSize | null;
}

export interface SpawnedChild {
  pid: number;
  /** -1 when detached: only the monitor, its parent, can wait for it. */
  pidfd: number;
  releaseFd: number;
  errorFd: number;
  /** Detached only (else -1): the monitor's pid, and the pipe whose closing hands the container over to it. */
  monitorPid: number;
  handoffFd: number;
  /** -t only (else -1): a socket holding the pseudo-terminal's controller once the child has exec'd. */
  consoleFd: number;
}

/** A child step that failed before exec: step name (see ChildStepName in native/src/child.cc) and errno. */
export interface ChildFailure {
  step: string;
  errno: number;
  message: string;
}

export interface ExitStatus {
  /** Set when the process exited. */
  exitCode: number | null;
  /** Set when a signal killed it. */
  signal: number | null;
  /** Set only if waitid() itself failed. */
  errno?: number;
}

export interface NativeAddon {
  spawn(options: SpawnOptions): SpawnedChild;
  spawnExec(options: ExecOptions): SpawnedChild;
  release(releaseFd: number, errorFd: number): Promise<ChildFailure | null>;
  abort(releaseFd: number, errorFd: number): void;
  watchExit(pidfd: number, callback: (status: ExitStatus) => void): void;
  /**
   * Calls back once the pidfd's process (not a child) has exited (null), or the poll failed (an Error); reaps
   * nothing and keeps the event loop free. Returns a function that cancels the watch.
   */
  watchGone(pidfd: number, callback: (failure: Error | null) => void): () => void;
  /** The controller end of the child's pseudo-terminal, from its console socket (which is closed). */
  receiveTerminal(consoleFd: number): number;
  resizePty(controller: number, rows: number, columns: number): void;
  /** Signals the process (pid, start time) through a pidfd; false when it no longer exists. */
  signalProcess(pid: number, startTime: number, signal: number): boolean;
  /** A pidfd on the process (pid, start time); null when it no longer exists. */
  openProcess(pid: number, startTime: number): number | null;
  /** A descriptor of the directory holding an exclusive flock on it (waits for it); closing it unlocks. */
  lockDirectory(path: string): number;
}
