// The exact shape of the native addon's exports (native/src/addon.cc). TypeScript validates what the values mean
// before they get here (src/container/spec.ts, plan.ts); the addon checks only their shape (a TypeError naming the
// option) and these types keep the TypeScript side honest at compile time.

export interface InterfaceConfig {
  /** Name of the container's end of the veth, already present in its namespace when it is released. */
  name: string;
  address: string;
  prefixLength: number;
  gateway: string;
  /** A dual-stack network's IPv6 address and gateway (the child turns DAD off and adds the default route); null: IPv4 only. */
  ipv6: { address: string; prefixLength: number; gateway: string } | null;
}

/**
 * How a process enters its cgroups, by descriptors the caller opened before the spawn (close-on-exec) and closes once
 * it returns (src/container/cgroups.ts, openCgroupEntry). cgroup v1: each hierarchy's `tasks` file, into which the
 * child writes "0" before it waits for its release; cgroup v2: the directory clone3(CLONE_INTO_CGROUP) creates it
 * in. Either way the kernel never takes cgroup_threadgroup_rwsem's write side (an RCU grace period) as it does
 * for a pid written into cgroup.procs.
 */
export type CgroupEntry = { tasks: number[] } | { directory: number };

export interface SpawnOptions {
  /** The container's cgroups; null: none (it stays in minictr's). */
  cgroup: CgroupEntry | null;
  /** false for --network host: the container shares the host's network namespace. */
  newNetwork: boolean;
  hostname: string;
  /** null: lo only (--network none or host). */
  interface: InterfaceConfig | null;
  /** The container's root (src/container/overlay.ts decides how it is mounted). */
  overlay: {
    /** Read-only layers, topmost first. */
    lower: string[];
    upper: string;
    work: string;
    target: string;
    /** The upper layer is never synced (overlayfs's option, Linux 5.10). */
    volatile: boolean;
    /** Mount with fsopen and one fsconfig(lowerdir+) per layer (Linux 6.8), falling back to mount(2) where refused. */
    lowerdirPlus: boolean;
    /** mount(2)'s options for the same overlay; null: mount(2) cannot take them (the child reports E2BIG if it must). */
    options: string | null;
  };
  /** Written by the child inside the container's root just before exec. Paths start with /etc/. */
  etcFiles: { path: string; content: string }[];
  /** --device: nodes the child creates (with their parent directories) in the container's /dev. */
  devices: DeviceNode[];
  /**
   * -v, --mount, --tmpfs, parents first: mounted under the root before pivot_root, each target resolved inside it
   * (native/src/mounts.cc). bind: `source` is a host path; tmpfs: `data` its options.
   */
  mounts: { kind: 'bind' | 'tmpfs'; source: string; target: string; readOnly: boolean; data: string }[];
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
  /** Bytes, as the user gave them (see src/sys/bytes.ts): they need not be UTF-8. */
  argv: Buffer[];
  /** KEY=VALUE entries, as bytes like argv. */
  env: Buffer[];
  /**
   * The host's minictr-init. The container's clone execs a sealed in-memory copy of it at once, which builds the
   * container and execs the command, so that /proc/self/exe never points at a host file (see native/src/init.cc).
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
   * file opened here at `log`, -t's console socket, -i's stdin pipe when `keepStdin`) and runs argv (argv[0], then
   * "EXIT EXIT-RESERVE LOG MAX-SIZE MAX-FILE -- CLEANUP...": native/src/monitor.cc) with env; null: the container is
   * this process's child.
   */
  monitor: { path: string; log: string; keepStdin: boolean; argv: string[]; env: string[] } | null;
}

export interface DeviceNode {
  /** Starts with /dev/. */
  path: string;
  /** p (a FIFO): minictr-oci's linux.devices only. */
  type: 'c' | 'b' | 'p';
  major: number;
  minor: number;
  /** Permission bits. */
  mode: number;
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
  /** The host's minictr-init: a sealed copy of it joins the container, in join mode (native/src/join.cc). */
  helper: string;
  /** -t: a console socket, as SpawnOptions' terminal (the size is in the request). */
  terminal: boolean;
  /** What the process is and does, read by the join mode: encodeJoinRequest (src/container/join-request.ts). */
  request: Buffer;
  /** The process's fds 0-2: descriptors of minictr's (relay pipes, /dev/null), or -1 for minictr's own. */
  stdio: [number, number, number];
  /** minictr-oci exec --tty: the caller's Unix socket, which receives the controller (consoleFd is then -1). */
  consoleSocket?: string;
  /** cgroup v2: the container's cgroup, which the joiner is cloned into; null: none, or v1 (the request names the `tasks` files). */
  cgroup: { directory: number } | null;
}

/** minictr-oci create: a container from a bundle's config.json (src/oci/config.ts builds this; native/src/oci.cc). */
export interface OciSpawnOptions {
  /** linux.resources' cgroups (as SpawnOptions' cgroup); null: none. */
  cgroup: CgroupEntry | null;
  /** Set in the new UTS namespace when not empty. */
  hostname: string;
  /** The spec's default devices and linux.devices, made after pivot_root (in a user namespace: FIFOs only). */
  devices: DeviceNode[];
  /** /dev's default links (/dev/fd, /dev/ptmx, ...), made after the devices. */
  devLinks: boolean;
  workdir: string;
  readOnly: boolean;
  user: { uid: number; gid: number; additionalGids: number[] } | null;
  execPath: string;
  argv: Buffer[];
  env: Buffer[];
  helper: string;
  /** process.terminal: the caller's socket that receives the terminal's controller; '' for none. */
  consoleSocket: string;
  consoleSize: TerminalSize;
  /** The bundle's root filesystem, absolute. */
  root: string;
  /** MS_* propagation (with MS_REC) of the container's root, applied after pivot_root. */
  rootPropagation: number;
  /** CLONE_NEW* of the namespaces made new. With CLONE_NEWUSER the caller writes the maps before the release. */
  cloneFlags: number;
  /** Namespaces joined: CLONE_NEW* type and path. */
  join: { type: number; path: string }[];
  /** config.json's mounts, in order: flags and propagation are MS_* bits, data the options left. */
  mounts: { source: string; target: string; type: string; flags: number; propagation: number; data: string }[];
  capabilities: { bounding: number[]; effective: number[]; permitted: number[]; inheritable: number[]; ambient: number[] };
  noNewPrivileges: boolean;
  maskedPaths: string[];
  readonlyPaths: string[];
  /** linux.sysctl as /proc/sys paths. */
  sysctl: { path: string; value: string }[];
  /** RLIMIT_* numbers. */
  rlimits: { resource: number; soft: number; hard: number }[];
  /** A seccomp filter: whole 8-byte struct sock_filter instructions; empty: none. */
  seccomp: Buffer;
  /** The state directory's FIFO the child opens for writing before exec: `start` reads it. */
  execFifo: string;
  /** --preserve-fds: fds 3 .. 3+N-1 stay open in the container. */
  preserveFds: number;
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

/** A moment for utimensat: whole seconds since the epoch and nanoseconds. */
export interface Timestamp {
  seconds: number;
  nanoseconds: number;
}

export interface EntryTimes {
  atime: Timestamp;
  mtime: Timestamp;
}

/** One tar entry to create under a layer root (native/src/unpack.cc); `name` is one component, never "." or "..". */
export type UnpackEntry = {
  /** Inside the root; resolved there (symlinks and ".." never leave it), created 0755 where missing. */
  parent: string;
  name: string;
  mode: number;
  uid: number;
  gid: number;
  /** Set on symlinks and nodes here; files and directories get theirs from unpackFinish and unpackTimes. */
  times: EntryTimes | null;
} & (
  | { kind: 'directory' | 'file' | 'fifo' }
  /** symlink: the link text, verbatim; link: the path of the hard link's target inside the root. */
  | { kind: 'symlink' | 'link'; target: string }
  | { kind: 'char' | 'block'; major: number; minor: number }
);

export interface Xattr {
  name: string;
  value: Buffer;
}

/** What unpackFinish sets; null leaves it as it is. */
export interface UnpackMeta {
  owner: { uid: number; gid: number } | null;
  mode: number | null;
  xattrs: Xattr[];
  times: EntryTimes | null;
}

/** An opaque zstd decompression context (freed when collected). */
export type ZstdContext = { readonly __brand: 'ZstdContext' };

export interface NativeAddon {
  spawn(options: SpawnOptions): SpawnedChild;
  spawnExec(options: ExecOptions): SpawnedChild;
  /** Clones the container (through an intermediate that exits: it is not this process's child), blocked on release. */
  spawnOci(options: OciSpawnOptions): { pid: number; releaseFd: number; errorFd: number };
  /** pipe2(O_CLOEXEC): [read end, write end]. */
  openPipe(): [number, number];
  release(releaseFd: number, errorFd: number): Promise<ChildFailure | null>;
  /** Closes both (the child exits without running anything); what the child reported, if it had failed already. */
  abort(releaseFd: number, errorFd: number): ChildFailure | null;
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
  /**
   * Creates an entry under the layer root open at rootFd; returns a descriptor for a file (write-only, empty) or a
   * directory (a directory entry over an existing directory keeps it), -1 otherwise. Throws an Error with errno,
   * code, syscall and path.
   */
  unpackCreate(rootFd: number, entry: UnpackEntry): number;
  /** Owner, then mode, then xattrs, then times (when given) of what fd (from unpackCreate) is; `path` names it in errors. */
  unpackFinish(fd: number, path: string, meta: UnpackMeta): void;
  /** The times of parent/name inside the root, not following a symlink. */
  unpackTimes(rootFd: number, entry: { parent: string; name: string; times: EntryTimes }): void;
  /** Whether a layer directory carries overlayfs's opaque mark (xattr trusted.overlay.opaque = "y"). */
  isOpaqueDirectory(path: string): boolean;
  zstdStream(): ZstdContext;
  /** Decompresses from the start of input until it is used up or 1 MiB is made; frameEnded: a frame just ended. */
  zstdDecompress(context: ZstdContext, input: Buffer): { output: Buffer; consumed: number; frameEnded: boolean };
  /**
   * bpf(BPF_PROG_LOAD) of `insns` (whole 8-byte instructions, see src/bpf/asm.ts): a close-on-exec descriptor of
   * the program. Failing, it throws an Error with `errno` and `log`, the verifier's log.
   */
  bpfProgLoad(type: number, insns: Uint8Array, license: string, name: string, expectedAttachType: number): number;
  /**
   * bpf(BPF_PROG_ATTACH) to a cgroup, on the thread pool: `target` is the cgroup directory's descriptor. Both
   * descriptors must stay open until it settles; it rejects with an Error carrying `errno`.
   */
  bpfProgAttach(target: number, progFd: number, attachType: number, flags: number): Promise<void>;
  /** if_nametoindex(3) in this process's network namespace; 0 when there is no such interface. */
  interfaceIndex(name: string): number;
  /**
   * An O_PATH descriptor of `path` resolved inside the directory rootFd (RESOLVE_IN_ROOT: symlinks and ".." never
   * leave it); throws an Error with errno and path (native/src/root_open.cc).
   */
  openInRoot(rootFd: number, path: string): number;
  /**
   * socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol), bound, with extended acknowledgements: a descriptor that
   * fs.closeSync closes. Messages are built and parsed in TypeScript (src/netlink/); throws an Error with errno.
   */
  netlinkSocket(protocol: number): number;
  /** One sendmsg to the kernel of whole netlink messages; throws an Error with errno. */
  netlinkSend(fd: number, messages: Uint8Array): void;
  /** The next datagram from the socket, whole; blocks until there is one. Throws an Error with errno. */
  netlinkReceive(fd: number): Buffer;
  /**
   * Binds an IPv4 address and port for a moment as a host server would (TCP: SO_REUSEADDR, bind, listen; UDP: bind)
   * and closes it: 0 when free, else the errno (native/src/port_probe.cc).
   */
  probePort(protocol: 'tcp' | 'udp', address: string, port: number): number;
  /** strerrorname_np and strerror of an errno that arrived as data (a netlink error). */
  errnoDescription(errno: number): { code: string; message: string };
  /** _exit(code): ends the process at once, without Node's own exit (cli.ts calls it last, where the addon is loaded). */
  exitNow(code: number): never;
  /**
   * Marks every descriptor from `first` on close-on-exec, so that a process started with child_process (which closes
   * none) inherits nothing minictr's caller left inheritable.
   */
  closeOnExecFrom(first: number): void;
  /**
   * libnftables' nft_run_cmd_from_buffer on one context kept for the process (native/src/nftables.cc): `script` as
   * `nft [-j] [-t] -f -` reads it, one transaction; `ok` false when it failed, with nft's messages in `error`.
   */
  nftRun(script: string, json: boolean, terse: boolean): { ok: boolean; output: string; error: string };
  /**
   * Opens libnftables and creates nftRun's context on libuv's thread pool, so that a run which will call nftRun
   * pays for that meanwhile; nftRun waits for a load under way. Rejects when the library or context cannot be had.
   */
  nftLoad(): Promise<void>;
  /**
   * NFT_MSG_GETGEN: the ruleset's generation id, which every commit bumps by one, and the cookie of this process's
   * network namespace (decimal), which no other namespace has while the host runs. Throws an Error with errno.
   */
  nftGeneration(): { netns: string; generation: number };
  /**
   * posix_spawn of a helper program (no fork of Node's memory) in a session of its own, with /dev/null as stdio,
   * an empty environment, default signal dispositions and one end of a new socket pair as fd 3: `fd` is the other
   * end. This process never reaps it (a zombie counts as gone, see sys/proc.ts). Throws an Error with errno.
   */
  spawnHelper(path: string, argv: string[]): { pid: number; fd: number };
}

