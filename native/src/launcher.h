// -d's launcher: how a detached container gets minictr-monitor as its parent (launcher.cc).
#pragma once

#include <cstdint>

#include "child_exec.h"
#include "spawn.h"

namespace minictr {

// What the launcher needs, prepared before the first clone, which shares it. The descriptors are the parent's,
// copied into the launcher by the clone.
struct LaunchConfig {
  const ChildExec* child;  // the container's clone, which execs minictr-init's child mode
  uint64_t clone_flags;
  int cgroup_dir;     // cgroup v2: the container's cgroup, which it is cloned into; -1: none
  int report_fd;      // write end: {container pid, monitor pid} or {-errno, 0}, then an exec errno if exec fails
  int log_fds[2];     // read ends of the container's stdout and stderr pipes: the monitor's fds 3 and 4
  int handoff_fd;     // read end of the handoff pipe: the monitor's fd 5
  int log_file_fd;    // the log file, opened by minictr (so a failure is reported by spawn): the monitor's fd 7
  int console_fd;     // -t: where the child sends the terminal's controller, which the monitor logs: fd 8, or -1
  int stdin_fd;       // -i: write end of the container's stdin, held open (never written) by the monitor: fd 9, or -1
  int null_fd;        // /dev/null: the monitor's stdin, stdout and stderr
  const char* monitor_path;
  char* const* monitor_argv;
  char* const* monitor_envp;
};

// P, the process Spawn clones with CloneVfork, given the LaunchConfig: only system calls; never returns.
[[noreturn]] void RunLauncher(const void* launch);

// Spawn's side: reads the launcher's report from `report_fd` into `result` (pid, monitor_pid). Returns 0 once the
// monitor runs, or an errno with `what` naming the call that failed.
int ReadLaunchReport(int report_fd, int cgroup_dir, SpawnResult* result, const char** what);

}  // namespace minictr
