// A container's first process, from clone() until it is minictr-init: clone3(CLONE_VM | CLONE_VFORK) on a small
// stack of its own, as posix_spawn and crun do, and at once execveat() of minictr-init's sealed copy in child mode
// (init.cc), which reads the container's config from a memfd and runs the container's steps (child.cc). -d's
// launcher (launcher.cc) clones the same way (CloneVfork).
#pragma once

#include <cstdint>

namespace minictr {

// Most descriptors the clone keeps open across its exec (config, release, error, console, stdio, cgroup tasks).
constexpr int kMaxKeptFds = 24;

// Everything the clone reads, prepared by the parent before the clone: it shares the parent's memory and may
// write none of it (nor allocate, nor touch per-mm state such as PR_SET_DUMPABLE).
struct ChildExec {
  int helper_fd;           // minictr-init's sealed copy
  char* const* argv;       // "minictr-init child CONFIG_FD ERROR_FD"
  int error_fd;            // a failed exec is reported here as {kStepInit, errno}
  int keep[kMaxKeptFds];   // close-on-exec descriptors the exec must keep besides stdio (flag cleared in the clone)
  int keep_count;
};

// clone3() with `flags` | CLONE_VM | CLONE_VFORK (and CLONE_PIDFD into `pidfd` unless null, CLONE_INTO_CGROUP with
// `cgroup` unless -1) on a stack of its own, where the child runs run(arg), which must end in an exec or _exit();
// only system calls there, and no write to memory but that stack. Returns once the child has exec'd or exited: its
// pid, or -1 with errno set.
long CloneVfork(uint64_t flags, int* pidfd, int cgroup, void (*run)(const void*), const void* arg);

// CloneVfork of a container's first process, which execs minictr-init (or reports why it could not, and exits).
long CloneChild(const ChildExec& exec, uint64_t flags, int* pidfd, int cgroup);

}  // namespace minictr
