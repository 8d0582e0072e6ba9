// The processes the addon starts, between clone() and execve(): the config each reads and the numbered steps it runs.
// Everything here is prepared by the parent before clone(), so the child only makes system calls.
#pragma once

#include <linux/filter.h>
#include <linux/sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "mounts.h"

namespace minictr {

// The child's steps, in the order they run. A failing step sends {step, errno} over the error pipe.
enum ChildStep : int32_t {
  kStepRelease = 1,   // wait for "go" on the release pipe
  kStepHostname,      // sethostname() in the new UTS namespace
  kStepLoopback,      // bring lo up
  kStepInterface,     // address, netmask and up on the container's interface
  kStepRoute,         // default route through the bridge's address
  kStepMountPrivate,  // stop mount events from propagating back to the host
  kStepOverlay,       // the per-container overlay over the shared rootfs
  kStepPivotRoot,     // make the overlay the root and detach the host's tree
  kStepProc,          // /proc of the new PID namespace
  kStepDev,           // a minimal /dev on tmpfs
  kStepDevices,       // --device nodes in /dev
  kStepSys,           // /sys, read-only
  kStepEtcFiles,      // /etc/hostname, /etc/hosts, /etc/resolv.conf
  kStepMaskPaths,     // hide or freeze the kernel files a container must not read or write
  kStepWorkdir,       // create and enter the working directory
  kStepSession,       // own session: terminal signals reach minictr, which forwards them once
  kStepTerminal,      // -t: a pseudo-terminal of the container's own devpts, controller sent to minictr
  kStepReadOnlyRoot,  // --read-only
  kStepUser,          // --user: setgroups, setgid, setuid
  kStepCapabilities,  // no_new_privs and the reduced capability sets
  kStepSeccomp,       // the seccomp filter
  kStepStdio,         // stdio descriptors in place
  kStepInit,          // execveat() minictr-init's sealed copy (the container's clone; minictr-oci's child at its end)
  kStepExec,          // execve() the command
  // `minictr exec`'s joiner, minictr-init in join mode (join.cc), before the process exists:
  kStepJoinRequest,     // read minictr's request
  kStepJoinCgroup,      // join the container's cgroups (also a container's first process, first thing, on v1)
  kStepJoinNamespaces,  // setns() into the container's namespaces, chroot into its root, clone the process
  kStepVolumes,         // -v, --mount, --tmpfs under the new root, before pivot_root (mounts.cc); numbered last
  // minictr-oci's container (oci.cc):
  kStepNamespaces,  // setns() into the namespaces config.json names by path
  kStepSysctl,      // linux.sysctl, written under /proc/sys
  kStepRlimits,     // process.rlimits
  kStepExecFifo,    // block on the exec FIFO until `minictr-oci start`
  // minictr-init's child mode (init.cc), before RunChild:
  kStepConfig,  // read and decode the container's config (child_request.h)
};

const char* ChildStepName(int32_t step);

// Writes {step, error} on the error pipe (one write: atomic on a pipe). Nothing more can be done if the parent is
// gone. Also used by minictr-init, which reports the command's exec the same way.
inline void ReportStep(int error_fd, int32_t step, int error) {
  int32_t report[2] = {step, error};
  ssize_t written = write(error_fd, report, sizeof report);
  (void)written;
}

// clone3()'s arguments: `flags` (and, when `pidfd` is given, a pidfd of the child in it). `cgroup`, a cgroup v2
// directory's descriptor (-1: none), is where the child is born (CLONE_INTO_CGROUP, Linux 5.7): the kernel then
// takes cgroup_mutex and only the read side of cgroup_threadgroup_rwsem, as for any fork (cgroup_css_set_fork),
// where writing a pid into cgroup.procs takes the write side and waits for an RCU grace period.
inline struct clone_args CloneArgs(uint64_t flags, int* pidfd, int cgroup) {
  struct clone_args args;
  memset(&args, 0, sizeof args);
  args.flags = flags;
  if (pidfd != nullptr) {
    args.flags |= CLONE_PIDFD;
    args.pidfd = reinterpret_cast<uint64_t>(pidfd);
  }
  if (cgroup >= 0) {
    args.flags |= CLONE_INTO_CGROUP;
    args.cgroup = static_cast<uint64_t>(cgroup);
  }
  return args;
}

// clone3() without a stack: like fork(), with CloneArgs' arguments.
inline long CloneProcess(uint64_t flags, int* pidfd, int cgroup = -1) {
  struct clone_args args = CloneArgs(flags, pidfd, cgroup);
  // With CLONE_PARENT the kernel takes the exit signal of the caller (SIGCHLD here) and refuses any other.
  args.exit_signal = (flags & CLONE_PARENT) != 0 ? 0 : SIGCHLD;
  return syscall(SYS_clone3, &args, sizeof args);
}

struct EtcFile {
  const char* path;
  const char* content;
  size_t length;
};

struct DeviceNodeConfig {
  char* path;  // writable: the child walks it to create missing parents
  mode_t mode;  // S_IFCHR, S_IFBLK (or minictr-oci's S_IFIFO) and the permission bits
  dev_t device;
};

// Most descriptors a child must close on entry: the other processes' ends of every pipe it inherited.
constexpr int kMaxInheritedFds = 12;

// Most cgroup v1 hierarchies a container joins (minictr: memory, cpu, pids, devices; minictr-oci: a few more).
constexpr int kMaxCgroupTasks = 12;

// cgroup v1: the `tasks` files of the container's cgroups, opened by minictr before the clone. The child writes "0"
// (itself) into each: moving one thread, which the kernel does without cgroup_threadgroup_rwsem's write side
// (cgroup_procs_write_start), so without the RCU grace period a pid written into cgroup.procs costs (10-15 ms).
// This child has one thread, so that is the whole process.
struct CgroupTasks {
  int fds[kMaxCgroupTasks];
  int count;
};

// Writes "0" into each of `tasks` and closes it; false at the first failure (errno says why).
bool EnterCgroups(const CgroupTasks& tasks);

// What every process the addon starts reads between clone() and execve(): a container's first process (ChildConfig)
// or an exec'd one (join.cc). Its release, stdio and terminal, and its security profile.
struct ProcessConfig {
  int release_fd;         // read end of the release pipe
  int error_fd;           // write end of the error pipe (close-on-exec: a successful exec closes it)
  int foreign_fds[kMaxInheritedFds];  // other processes' pipe ends: closed first, or EOF could never arrive
  int foreign_fd_count;
  int stdio[3];           // descriptors to become 0, 1 and 2; -1: keep the inherited one
  int console_fd;         // -t: a socket to send the pseudo-terminal's controller to minictr; -1: no terminal
  unsigned short rows;    // -t: the terminal's initial size
  unsigned short columns;
  char* workdir;          // writable copy: a container's child walks it to create missing parents
  bool privileged;        // --privileged: no masked paths, all capabilities, no no_new_privs
  uint64_t capabilities;  // bit N set: keep capability N
  const sock_fprog* seccomp;  // installed last; null with --privileged
  bool switch_user;       // --user: run as uid:gid with no supplementary groups
  uint32_t uid;
  uint32_t gid;
  char* const* envp;
};

// A container's first process: it builds the container (steps 2-13), then the command is exec'd.
struct ChildConfig : ProcessConfig {
  CgroupTasks cgroup_tasks;  // joined first, before the release (cgroup v1; on v2 the clone put it in its cgroup)
  int helper_fd;             // minictr-oci: minictr-init's sealed copy, exec'd with helper_argv to exec the command
  char* const* helper_argv;
  const char* hostname;
  bool configure_interface;
  const char* ifname;
  uint32_t address;  // network byte order
  uint32_t netmask;
  uint32_t gateway;
  bool configure_ipv6;
  uint8_t address6[16];
  uint8_t prefix6;
  uint8_t gateway6[16];
  OverlayConfig overlay;
  const EtcFile* etc_files;
  size_t etc_file_count;
  const DeviceNodeConfig* devices;
  size_t device_count;
  const MountConfig* mounts;  // -v, --mount, --tmpfs, parents first
  size_t mount_count;
  bool read_only;         // --read-only: the root is remounted read-only before exec
};

// Reports {step, errno} on the error pipe and exits. Async-signal-safe, as is everything below.
[[noreturn]] void FailStep(const ProcessConfig& config, int32_t step);

// Marks every descriptor from `first` on close-on-exec: close_range(CLOSE_RANGE_CLOEXEC), or on kernels before 5.11
// a loop that stops at 65536 (Node raises the descriptor limit to the hard limit, a million or more).
void MarkAllCloseOnExec(int first);

// Default dispositions for every signal and an empty mask: a program started from Node would otherwise inherit
// ignored signals (SIGPIPE) and the mask that was blocked across clone().
void ResetSignals();

// The first steps of every child: die with the parent (unless `die_with_parent` is false: minictr-oci's container
// outlives `create`), default signals, not dumpable, the other processes' pipe ends closed; then block until minictr
// says "go". Exits quietly if it says nothing (it gave up).
void AwaitRelease(const ProcessConfig& config, bool die_with_parent = true);

// A session of its own and, with -t, the pseudo-terminal as its controlling terminal; `stdio` is what becomes fds
// 0-2 (the terminal's replica with -t).
void EnterSession(const ProcessConfig& config, int (&stdio)[3]);

// The security profile's process part, in order: bounding set and no_new_privs, --user, capability sets, seccomp.
// Returns 0, or the step that failed (errno says why).
int32_t ApplyProcessProfile(const ProcessConfig& config);

// Stdio in place and blocking, every other descriptor close-on-exec, umask 022: ready for execve().
void PrepareExec(const ProcessConfig& config, const int (&stdio)[3]);

// Steps of RunChild that minictr-oci's child (oci.cc) runs too: pivot_root into new_root (the old root detached),
// mkdir -p of the writable `path`, a device node with its parent directories.
bool PivotInto(const char* new_root);
// The default profile's way to hide a kernel path (/dev/null over a file, an empty read-only tmpfs over a directory)
// and to freeze one (a read-only, nosuid, nodev, noexec bind on itself); a path this kernel lacks counts as done.
// Shared with minictr-oci's maskedPaths and readonlyPaths.
bool MaskPath(const char* path);
bool FreezePath(const char* path);
bool MakeDirectories(char* path);
bool MakeDeviceNode(const DeviceNodeConfig& device);

// A container's first process, in minictr-init's child mode: runs the child's steps and returns ready for the
// command's exec (stdio in place, every other descriptor close-on-exec); a failing step reports and exits.
void RunChild(const ChildConfig& config);

}  // namespace minictr
