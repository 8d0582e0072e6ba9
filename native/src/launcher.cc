// -d's launcher. A detached container's parent must outlive minictr, so it is not minictr: Spawn (spawn.cc) clones
// the launcher instead of the container, and the launcher starts the container and becomes minictr-monitor
// (monitor.cc, whose header lists the descriptors placed here).
#include "launcher.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "child.h"
#include "io.h"

namespace minictr {

namespace {

// The monitor's descriptors 0 to 9 come from anywhere: every source is first copied above the targets (10 and up),
// then put in place, so no dup2() overwrites a source still to be copied. `report_fd` is moved up too, since it is
// still written after this when the exec fails; it is returned through `report_fd`. Fds 8 and 9 are optional:
// without -t or -i, whatever is there closes on exec.
bool PlaceMonitorFds(const LaunchConfig& launch, int pidfd, int* report_fd) {
  constexpr int kCount = 9;  // null, stdout pipe, stderr pipe, handoff, pidfd, log file, console, stdin, report
  int sources[kCount] = {launch.null_fd,     launch.log_fds[0], launch.log_fds[1], launch.handoff_fd, pidfd,
                         launch.log_file_fd, launch.console_fd, launch.stdin_fd,   launch.report_fd};
  int high[kCount];
  for (int i = 0; i < kCount; i++) {
    high[i] = sources[i] < 0 ? -1 : fcntl(sources[i], F_DUPFD_CLOEXEC, 10);
    if (sources[i] >= 0 && high[i] < 0) return false;
  }
  *report_fd = high[kCount - 1];
  for (int fd = 0; fd <= 2; fd++) {
    if (dup2(high[0], fd) < 0) return false;
  }
  for (int i = 1; i <= 7; i++) {
    if (high[i] >= 0 ? dup2(high[i], 2 + i) < 0 : fcntl(2 + i, F_SETFD, FD_CLOEXEC) < 0 && errno != EBADF) return false;
  }
  MarkAllCloseOnExec(10);
  return true;
}

}  // namespace

namespace {

// M: see RunLauncher.
[[noreturn]] void RunMonitor(const void* arg) {
  const LaunchConfig& launch = *static_cast<const LaunchConfig*>(arg);
  int pidfd = -1;
  long container = CloneChild(*launch.child, launch.clone_flags, &pidfd, launch.cgroup_dir);
  int32_t report[2] = {container < 0 ? -errno : static_cast<int32_t>(container), static_cast<int32_t>(getpid())};
  WriteFully(launch.report_fd, report, sizeof report);
  if (container < 0) _exit(1);
  ResetSignals();
  int report_fd = launch.report_fd;
  if (PlaceMonitorFds(launch, pidfd, &report_fd)) execve(launch.monitor_path, launch.monitor_argv, launch.monitor_envp);
  int32_t failure = errno;
  WriteFully(report_fd, &failure, sizeof failure);
  _exit(127);
}

}  // namespace

// Three clones, none a copy of minictr's memory: each shares it (CloneVfork) while its parent waits, one at a time.
//   P  starts a new session (no terminal can reach what follows), clones M and exits once M has exec'd, so M is
//      orphaned and adopted by init (or the nearest subreaper): the classic daemon double fork.
//   M  clones the container as minictr does in the foreground (CloneChild), so it becomes the container's parent,
//      reports both pids, and execs minictr-monitor, which keeps the pid and the container's pidfd: waiting for the
//      container, logging its output and starting its teardown.
void RunLauncher(const void* arg) {
  const LaunchConfig& launch = *static_cast<const LaunchConfig*>(arg);
  setsid();
  if (CloneVfork(0, nullptr, -1, RunMonitor, &launch) < 0) {
    int32_t report[2] = {-errno, 0};
    WriteFully(launch.report_fd, report, sizeof report);
  }
  _exit(0);
}

// Both pids, then EOF once M has exec'd the monitor (or the errno of a failed exec).
int ReadLaunchReport(int report_fd, int cgroup_dir, SpawnResult* result, const char** what) {
  int32_t pids[2] = {0, 0};
  if (ReadFully(report_fd, pids, sizeof pids) != sizeof pids) {
    *what = "fork the monitor";
    return EPIPE;
  }
  if (pids[0] < 0) {
    *what = CloneCallName(cgroup_dir);
    return -pids[0];
  }
  result->pid = pids[0];
  result->monitor_pid = pids[1];
  int32_t exec_error = 0;
  if (ReadFully(report_fd, &exec_error, sizeof exec_error) == sizeof exec_error) {
    *what = "exec minictr-monitor";
    return exec_error;
  }
  return 0;
}

}  // namespace minictr
