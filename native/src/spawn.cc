// Parent side of starting a container, and of `minictr exec`.
//
// Spawn: clone3() creates the child in new PID, mount, UTS, IPC and (unless --network host) network namespaces and
// hands back a pidfd, so the exit can later be watched on the event loop without racing pid reuse. The clone shares
// Node's memory only until it has exec'd minictr-init's child mode (child_exec.cc), which reads the container's
// config from a sealed memfd written here (child_request.h) and blocks on the release pipe; minictr builds the host
// side of the network meanwhile and then calls Release().
// With -d the container's parent is minictr-monitor instead (launcher.cc: a double fork, then exec).
// SpawnExec: a child blocked the same way, in the namespaces and root of a running container (RunJoiner, which execs
// minictr-init's join mode: join.cc).
#include "spawn.h"

#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>

#include "child.h"
#include "child_exec.h"
#include "child_request.h"
#include "fd.h"
#include "io.h"
#include "launcher.h"
#include "oci.h"
#include "proc.h"

namespace minictr {

namespace {

void Reap(pid_t pid) {
  while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
}

// The identity of a process's PID namespace (the inode of /proc/PID/ns/pid), 0 if unreadable. A zombie has one too.
ino_t PidNamespaceOf(pid_t pid) {
  struct stat info;
  std::string path = "/proc/" + std::to_string(pid) + "/ns/pid";
  return stat(path.c_str(), &info) == 0 ? info.st_ino : 0;
}

// A joiner killed between its clone and its report (by the container's cgroup.kill, the OOM killer) leaves a process
// nobody named: this thread's child (CLONE_PARENT), waiting for a release that will not come. It is told so (its
// release pipe closes) and reaped, found among this thread's children by its PID namespace, the container's.
void ReapUnreported(ino_t container_namespace, Fd* release) {
  release->reset();
  Fd children(open("/proc/thread-self/children", O_RDONLY | O_CLOEXEC));
  char text[4096];
  ssize_t length = children.valid() ? read(children.get(), text, sizeof text - 1) : -1;
  text[length > 0 ? length : 0] = '\0';
  for (char* at = text; *at != '\0';) {
    char* end = nullptr;
    long pid = strtol(at, &end, 10);
    if (end == at) break;
    at = end;
    if (container_namespace != 0 && PidNamespaceOf(static_cast<pid_t>(pid)) == container_namespace) {
      Reap(static_cast<pid_t>(pid));
    }
  }
}

}  // namespace

constexpr unsigned int kMfdExec = 0x0010U;  // MFD_EXEC, which headers older than Linux 6.3 lack

// minictr-init as a sealed in-memory copy, through which every container command is exec'd (see init.cc). Until
// that exec, and as PID 1 with --init, /proc/self/exe then points at the copy, not at a host file, so nothing in the
// container can write through it to the host (the attack of CVE-2019-5736 on runc); runc protects itself the same
// way.
Fd SealedCopy(const char* path) {
  Fd source(open(path, O_RDONLY | O_CLOEXEC));
  if (!source.valid()) return Fd();
  // MFD_EXEC (Linux 6.3): executable even where vm.memfd_noexec makes memfds non-executable by default. Older
  // kernels refuse the unknown flag, and their memfds are executable anyway.
  Fd copy(memfd_create("minictr-init", MFD_CLOEXEC | MFD_ALLOW_SEALING | kMfdExec));
  if (!copy.valid() && errno == EINVAL) copy.reset(memfd_create("minictr-init", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  struct stat info;
  bool ok = copy.valid() && fstat(source.get(), &info) == 0;
  off_t offset = 0;
  while (ok && offset < info.st_size) {
    ok = sendfile(copy.get(), source.get(), &offset, static_cast<size_t>(info.st_size - offset)) > 0;
  }
  ok = ok && fcntl(copy.get(), F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) == 0;
  return ok ? std::move(copy) : Fd();
}

namespace {

constexpr unsigned int kMfdNoexecSeal = 0x0008U;  // MFD_NOEXEC_SEAL (Linux 6.3), as kMfdExec

// The container's config (child_request.h) in a sealed memfd at offset 0, for minictr-init's child mode to read.
Fd ConfigMemfd(const std::string& bytes) {
  Fd memfd(memfd_create("minictr-config", MFD_CLOEXEC | MFD_ALLOW_SEALING | kMfdNoexecSeal));
  if (!memfd.valid() && errno == EINVAL) memfd.reset(memfd_create("minictr-config", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  bool ok = memfd.valid() && WriteFully(memfd.get(), bytes.data(), bytes.size()) &&
            lseek(memfd.get(), 0, SEEK_SET) == 0 &&
            fcntl(memfd.get(), F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) == 0;
  return ok ? std::move(memfd) : Fd();
}

// -t: a socket pair over which the child sends the pseudo-terminal's controller from `child` to `parent`; with a
// console socket (minictr-oci exec), `child` is connected to it and `parent` stays empty.
struct ConsoleSockets {
  Fd parent;
  Fd child;

  bool Open(const SpawnRequest& request) {
    int sockets[2];
    if (!request.terminal) return true;
    if (!request.console_socket.empty()) {
      child = ConnectConsole(request.console_socket);
      return child.valid();
    }
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sockets) < 0) return false;
    parent.reset(sockets[0]);
    child.reset(sockets[1]);
    return true;
  }
};

// The descriptors the joiner keeps for minictr-init join: request, report, error, release, pidfd, root, console.
constexpr int kJoinFds = 7;

// `minictr exec`'s joiner, between fork and exec: a copy of Node, in the host's namespaces where the container cannot
// see it, which at once execs minictr-init's sealed copy in join mode (join.cc) with an empty environment, keeping
// open only stdio and the descriptors its argv names. The joining itself happens there.
[[noreturn]] void RunJoiner(int helper_fd, char* const* argv, const int (&keep)[kJoinFds], int report_fd,
                            const int (&stdio)[3]) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  ResetSignals();
  // The stdio given (relay pipes) goes to fds 0-2, each first copied above them so that no dup2() overwrites a
  // source still to be placed.
  int high[3];
  for (int fd = 0; fd <= 2; fd++) {
    high[fd] = stdio[fd] < 0 ? -1 : fcntl(stdio[fd], F_DUPFD_CLOEXEC, 3);
    if (stdio[fd] >= 0 && high[fd] < 0) ReportStep(report_fd, kStepStdio, errno), _exit(127);
  }
  for (int fd = 0; fd <= 2; fd++) {
    if (high[fd] >= 0 && dup2(high[fd], fd) < 0) ReportStep(report_fd, kStepStdio, errno), _exit(127);
  }
  MarkAllCloseOnExec(3);
  for (int fd = 0; fd <= 2; fd++) fcntl(fd, F_SETFD, 0);
  for (int fd : keep) {
    if (fd >= 0) fcntl(fd, F_SETFD, 0);
  }
  char* const empty[] = {nullptr};
  syscall(SYS_execveat, helper_fd, "", argv, empty, AT_EMPTY_PATH);
  ReportStep(report_fd, kStepInit, errno);
  _exit(127);
}

}  // namespace

int SpawnExec(const SpawnRequest& request, SpawnResult* result, const char** what) {
  auto fail = [&](const char* call) {
    *what = call;
    return errno;
  };
  // 1. The container, by a pidfd (its PID 1 cannot be confused with a later process of the same pid from here
  //    on) and its root directory; pipes: the request (→ joiner), its report (→ here), release and error (as a
  //    container's child has); minictr-init's sealed copy, and the joiner's argv naming its descriptors. What this
  //    function does not hand over closes as it returns.
  Fd target(OpenRecorded(request.join_pid, request.join_start_time));
  if (!target.valid()) return fail("open the container's PID 1 (pidfd_open)");
  std::string root_path = "/proc/" + std::to_string(request.join_pid) + "/root";
  Fd root(open(root_path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root.valid()) return fail("open /proc/PID/root");
  ino_t container_namespace = PidNamespaceOf(request.join_pid);
  Pipe request_pipe, report, release, error;
  if (!request_pipe.Open() || !report.Open() || !release.Open() || !error.Open()) return fail("pipe2");
  ConsoleSockets console;
  if (!console.Open(request)) return fail("socketpair");
  Fd helper = SealedCopy(request.helper_path.c_str());
  if (!helper.valid()) return fail("copy minictr-init into a sealed memfd");
  const int keep[kJoinFds] = {request_pipe.read.get(), report.write.get(), error.write.get(), release.read.get(),
                              target.get(),            root.get(),         console.child.get()};
  std::vector<std::string> strings = {"minictr-init", "join"};
  for (int fd : keep) strings.push_back(std::to_string(fd));
  std::vector<char*> argv = PointerArray(strings);

  // 2. The joiner, which reports the pid of the process it cloned, {0, pid}, or {step, errno}, and exits. Only the
  //    ends this process uses stay open here. The request is written meanwhile (a pipe holds only so much); should
  //    the joiner fail first, its report says why.
  long joiner;
  {
    SignalsBlocked blocked;
    joiner = CloneProcess(0, nullptr, request.cgroup_dir);
    if (joiner == 0) RunJoiner(helper.get(), argv.data(), keep, report.write.get(), request.exec_stdio);
  }
  if (joiner < 0) return fail(CloneCallName(request.cgroup_dir));
  for (Fd* theirs : {&request_pipe.read, &report.write, &error.write, &release.read, &target, &root, &console.child,
                     &helper}) {
    theirs->reset();
  }
  WriteFully(request_pipe.write.get(), request.join_request.data(), request.join_request.size());
  request_pipe.write.reset();
  Reap(static_cast<pid_t>(joiner));
  int32_t outcome[2] = {kStepJoinNamespaces, EPIPE};  // a joiner that died without a word
  if (ReadFully(report.read.get(), outcome, sizeof outcome) != sizeof outcome) {
    ReapUnreported(container_namespace, &release.write);
  }
  if (outcome[0] != 0) {
    errno = outcome[1];
    return fail(ChildStepName(outcome[0]));
  }

  // 3. The process is this process's child (CLONE_PARENT) and not yet reaped, so its pid is safe to open.
  int pid = outcome[1];
  Fd pidfd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
  if (!pidfd.valid()) {
    int saved = errno;
    release.write.reset();  // the blocked process exits on EOF, and is reaped here
    Reap(pid);
    errno = saved;
    return fail("pidfd_open");
  }
  result->pid = pid;
  result->pidfd = pidfd.release();
  result->console_fd = console.parent.release();
  result->release_fd = release.write.release();
  result->error_fd = error.read.release();
  return 0;
}

int Spawn(const SpawnRequest& request, SpawnResult* result, const char** what) {
  auto fail = [&](const char* call) {
    *what = call;
    return errno;
  };
  const bool detached = !request.monitor_path.empty();
  std::vector<char*> monitor_argv = PointerArray(request.monitor_argv);
  std::vector<char*> monitor_envp = PointerArray(request.monitor_env);
  if (request.cgroup_tasks.size() > kMaxCgroupTasks) return errno = E2BIG, fail("join the container's cgroup");

  // 1. Pipes: release (parent → child) and error (child → parent); detached, also the container's stdout and
  //    stderr (→ monitor), the launch report (launcher → parent) and the handoff (parent → monitor). /dev/null is
  //    a detached container's stdin. minictr-init's sealed copy, made now, while the host's tree is visible. What
  //    this function does not hand over closes as it returns.
  Pipe release, error, out, err, report, handoff, stdin_pipe;
  ConsoleSockets console;
  Fd null_fd, log_fd;
  if (!release.Open() || !error.Open()) return fail("pipe2");
  if (!console.Open(request)) return fail("socketpair");
  if (detached) {
    if (!out.Open() || !err.Open() || !report.Open() || !handoff.Open()) return fail("pipe2");
    if (request.keep_stdin && !stdin_pipe.Open()) return fail("pipe2");
    null_fd.reset(open("/dev/null", O_RDWR | O_CLOEXEC));
    if (!null_fd.valid()) return fail("open /dev/null");
    log_fd.reset(open(request.monitor_log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
    if (!log_fd.valid()) return fail("open the container log");
  }
  Fd helper = SealedCopy(request.helper_path.c_str());
  if (!helper.valid()) return fail("copy minictr-init into a sealed memfd");

  // 2. The container's config, with the numbers of the descriptors it keeps, in a sealed memfd, which the clone's
  //    argv names with the error pipe: "minictr-init child CONFIG_FD ERROR_FD". Every other descriptor (all
  //    close-on-exec: the other processes' ends, the cgroup directory) closes at the clone's exec.
  ChildFds fds;
  fds.release = release.read.get();
  fds.error = error.write.get();
  fds.console = console.child.get();
  if (detached) {
    fds.stdio[0] = stdin_pipe.read.valid() ? stdin_pipe.read.get() : null_fd.get();
    fds.stdio[1] = out.write.get();
    fds.stdio[2] = err.write.get();
  }
  Fd config = ConfigMemfd(EncodeChildRequest(request, fds));
  if (!config.valid()) return fail("write the container's config into a sealed memfd");
  std::vector<std::string> strings = {"minictr-init", "child", std::to_string(config.get()), std::to_string(fds.error)};
  std::vector<char*> argv = PointerArray(strings);
  static_assert(kMaxKeptFds >= 7 + kMaxCgroupTasks, "the config, release, error, console, stdio and cgroup tasks");
  ChildExec exec{helper.get(), argv.data(), fds.error, {}, 0};
  for (int fd : {config.get(), fds.release, fds.error, fds.console, fds.stdio[0], fds.stdio[1], fds.stdio[2]}) {
    if (fd >= 0) exec.keep[exec.keep_count++] = fd;
  }
  for (int fd : request.cgroup_tasks) exec.keep[exec.keep_count++] = fd;
  uint64_t flags = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC;
  if (request.new_network) flags |= CLONE_NEWNET;
  LaunchConfig launch{&exec,           flags,        request.cgroup_dir, report.write.get(),
                      {out.read.get(), err.read.get()}, handoff.read.get(), log_fd.get(), console.parent.get(),
                      stdin_pipe.write.get(), null_fd.get(), request.monitor_path.c_str(), monitor_argv.data(),
                      monitor_envp.data()};

  // 3. The container's clone execs minictr-init before this returns (CloneChild). All signals are blocked across
  //    it, so none runs one of Node's handlers in the clone, which shares Node's memory (the exec resets the
  //    handlers; minictr-init unblocks). Detached, the clone is the launcher (launcher.cc), which clones the
  //    monitor, which clones the container, each sharing this memory, and this returns once the monitor runs.
  int pidfd = -1;
  long pid;
  {
    SignalsBlocked blocked;
    pid = detached ? CloneVfork(0, nullptr, -1, RunLauncher, &launch)
                   : CloneChild(exec, flags, &pidfd, request.cgroup_dir);
  }
  if (pid < 0) return fail(detached ? "clone3" : CloneCallName(request.cgroup_dir));

  // 4. The parent hands over its own ends; the rest close as this returns. Detached, it reaps the launcher (which
  //    has exited) and reads the pids; the terminal's controller (-t) goes to the monitor, not here. On a failure
  //    the container, if cloned, exits when its release pipe closes, or with its parent the monitor.
  if (detached) {
    report.write.reset();  // the launcher's copy is the one whose closing ends the report
    Reap(static_cast<pid_t>(pid));
    int failure = ReadLaunchReport(report.read.get(), request.cgroup_dir, result, what);
    if (failure != 0) {
      *result = SpawnResult{};
      return failure;
    }
    result->handoff_fd = handoff.write.release();
  } else {
    result->pid = static_cast<int>(pid);
    result->pidfd = pidfd;
    result->console_fd = console.parent.release();
  }
  result->release_fd = release.write.release();
  result->error_fd = error.read.release();
  return 0;
}

ReleaseOutcome SentReport(int error_fd) {
  struct pollfd ready = {error_fd, POLLIN, 0};
  int32_t report[2];
  if (poll(&ready, 1, 0) != 1 || (ready.revents & POLLIN) == 0) return ReleaseOutcome{};
  if (ReadFully(error_fd, report, sizeof report) != sizeof report) return ReleaseOutcome{};
  return ReleaseOutcome{report[0], report[1]};
}

ReleaseOutcome Release(int release_fd, int error_fd) {
  Fd release(release_fd);
  Fd error(error_fd);
  if (!WriteFully(release.get(), "go", 2)) {
    int saved = errno;
    ReleaseOutcome sent = SentReport(error.get());
    return sent.step != 0 ? sent : ReleaseOutcome{kStepRelease, saved};
  }
  release.reset();
  int32_t report[2];
  if (ReadFully(error.get(), report, sizeof report) != sizeof report) return ReleaseOutcome{};
  return ReleaseOutcome{report[0], report[1]};
}

}  // namespace minictr
