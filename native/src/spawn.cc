// Parent side of starting a container, and of `minictr exec`.
//
// Spawn: clone3() creates the child in new PID, mount, UTS, IPC and (unless --network host) network namespaces and
// hands back a pidfd, so the exit can later be watched on the event loop without racing pid reuse. The child starts
// blocked on the release pipe; the agent builds the host side of the network meanwhile and then calls Release().
// With -d the container's parent is minictr-monitor instead (RunLauncher: a double fork, then exec).
// SpawnExec: a child blocked the same way, in the namespaces and root of a running container (RunJoiner, which execs
// minictr-init's join mode).
#include "spawn.h"

#include <fcntl.h>
#include <linux/sched.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <initializer_list>
#include <string>

#include "child.h"
#include "proc.h"
#include "seccomp.h"

namespace minictr {

namespace {

std::vector<char*> PointerArray(const std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  pointers.reserve(strings.size() + 1);
  for (const std::string& s : strings) pointers.push_back(const_cast<char*>(s.c_str()));
  pointers.push_back(nullptr);
  return pointers;
}

void CloseIfOpen(int fd) {
  if (fd >= 0) close(fd);
}

// Creates a pipe whose ends close on exec, so no program started meanwhile inherits them.
bool Pipe(int fds[2]) { return pipe2(fds, O_CLOEXEC) == 0; }

bool WriteFully(int fd, const void* data, size_t length) {
  const char* p = static_cast<const char*>(data);
  while (length > 0) {
    ssize_t n = write(fd, p, length);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    length -= static_cast<size_t>(n);
  }
  return true;
}

size_t ReadFully(int fd, void* data, size_t length) {
  char* p = static_cast<char*>(data);
  size_t have = 0;
  while (have < length) {
    ssize_t n = read(fd, p + have, length - have);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    have += static_cast<size_t>(n);
  }
  return have;
}

constexpr unsigned int kMfdExec = 0x0010U;  // MFD_EXEC, which headers older than Linux 6.3 lack

// minictr-init as a sealed in-memory copy, through which every container command is exec'd (see init.cc). Until
// that exec, and as PID 1 with --init, /proc/self/exe then points at the copy, not at a host file, so nothing in the
// container can write through it to the host (the attack of CVE-2019-5736 on runc); runc protects itself the same
// way.
int SealedCopy(const char* path) {
  int source = open(path, O_RDONLY | O_CLOEXEC);
  if (source < 0) return -1;
  // MFD_EXEC (Linux 6.3): executable even where vm.memfd_noexec makes memfds non-executable by default. Older
  // kernels refuse the unknown flag, and their memfds are executable anyway.
  int copy = memfd_create("minictr-init", MFD_CLOEXEC | MFD_ALLOW_SEALING | kMfdExec);
  if (copy < 0 && errno == EINVAL) copy = memfd_create("minictr-init", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  struct stat info;
  bool ok = copy >= 0 && fstat(source, &info) == 0;
  off_t offset = 0;
  while (ok && offset < info.st_size) ok = sendfile(copy, source, &offset, static_cast<size_t>(info.st_size - offset)) > 0;
  ok = ok && fcntl(copy, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) == 0;
  int saved = errno;
  close(source);
  if (!ok && copy >= 0) close(copy);
  errno = saved;
  return ok ? copy : -1;
}

// What the launcher (see RunLauncher) needs, prepared before the first clone.
struct LaunchConfig {
  const ChildConfig* child;
  uint64_t clone_flags;
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

// -d: the container's parent must outlive minictr, so it is not minictr. Two processes are forked from this one
// (both run only async-signal-safe code, like the container's child):
//   P  starts a new session (no terminal can reach what follows), forks M and exits at once, so M is orphaned and
//      adopted by init (or the nearest subreaper): the classic daemon double fork.
//   M  clones the container (it becomes the container's parent), reports both pids, and execs minictr-monitor,
//      which keeps the pid and the container's pidfd: waiting for the container, logging its output and starting
//      its teardown.
[[noreturn]] void RunLauncher(const LaunchConfig& launch) {
  setsid();
  long monitor = CloneProcess(0, nullptr);
  if (monitor != 0) {
    if (monitor < 0) {
      int32_t report[2] = {-errno, 0};
      WriteFully(launch.report_fd, report, sizeof report);
    }
    _exit(0);
  }
  int pidfd = -1;
  long container = CloneProcess(launch.clone_flags, &pidfd);
  if (container == 0) RunChild(*launch.child);
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

// Reads the launcher's report: both pids, then EOF once M has exec'd the monitor (or the errno of a failed exec).
int ReadLaunchReport(int report_fd, SpawnResult* result, const char** what) {
  int32_t pids[2] = {0, 0};
  if (ReadFully(report_fd, pids, sizeof pids) != sizeof pids) {
    *what = "fork the monitor";
    return EPIPE;
  }
  if (pids[0] < 0) {
    *what = "clone3";
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

void CloseAll(std::initializer_list<int> fds) {
  for (int fd : fds) CloseIfOpen(fd);
}

// The process part of a child's config (identity, security profile, program): the memory its pointers point into
// lives here, so it must outlive the clone.
struct PreparedProcess {
  std::vector<char*> envp;
  std::vector<std::string> helper_strings;
  std::vector<char*> helper_argv;
  std::vector<char> workdir;  // writable: the child walks it to create missing parents
  std::vector<sock_filter> filter;
  sock_fprog seccomp{};

  PreparedProcess(const SpawnRequest& request, ChildConfig* config)
      : envp(PointerArray(request.env)),
        workdir(request.workdir.begin(), request.workdir.end()) {
    workdir.push_back('\0');
    config->workdir = workdir.data();
    config->privileged = request.privileged;
    config->capabilities = request.capabilities;
    config->cap_last = ReadCapLast();
    if (!request.privileged) {
      filter = BuildSeccompFilter(request.capabilities);
      seccomp.len = static_cast<unsigned short>(filter.size());
      seccomp.filter = filter.data();
    }
    config->seccomp = request.privileged ? nullptr : &seccomp;
    config->read_only = request.read_only;
    config->switch_user = request.switch_user;
    config->uid = request.uid;
    config->gid = request.gid;
    config->envp = envp.data();
    config->helper_fd = -1;
    config->console_fd = -1;
    config->rows = request.rows;
    config->columns = request.columns;
    for (int& fd : config->stdio) fd = -1;
  }

  // The command runs through minictr-init (see init.cc): "minictr-init init|exec ERROR_FD PATH ARGV0 ARG...", from
  // `helper_fd`, its sealed copy. The error pipe's number is known only once the pipe exists.
  void SetHelper(const SpawnRequest& request, int helper_fd, int error_fd, ChildConfig* config) {
    helper_strings = {"minictr-init", request.init ? "init" : "exec", std::to_string(error_fd), request.exec_path};
    helper_strings.insert(helper_strings.end(), request.argv.begin(), request.argv.end());
    helper_argv = PointerArray(helper_strings);
    config->helper_fd = helper_fd;
    config->helper_argv = helper_argv.data();
  }
};

// -t: a socket pair over which the child sends the pseudo-terminal's controller (the child's end: sockets[1]).
bool ConsoleSockets(const SpawnRequest& request, int (&sockets)[2]) {
  return !request.terminal || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sockets) == 0;
}

// Blocks every signal across a clone (see Spawn, step 3) and restores the mask when it goes out of scope.
class SignalsBlocked {
 public:
  SignalsBlocked() {
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &saved_);
  }
  ~SignalsBlocked() { pthread_sigmask(SIG_SETMASK, &saved_, nullptr); }

 private:
  sigset_t saved_;
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
  // 1. The container, by a pidfd (its PID 1 cannot be confused with a later process of the same pid from here
  //    on) and its root directory; pipes: the request (→ joiner), its report (→ here), release and error (as a
  //    container's child has); minictr-init's sealed copy, and the joiner's argv naming its descriptors.
  int request_pipe[2] = {-1, -1}, report_pipe[2] = {-1, -1}, release_pipe[2] = {-1, -1}, error_pipe[2] = {-1, -1};
  int target_pidfd = -1, root_fd = -1, console[2] = {-1, -1}, helper_fd = -1;
  auto fail = [&](const char* call) {
    int saved = errno;
    CloseAll({request_pipe[0], request_pipe[1], report_pipe[0], report_pipe[1], release_pipe[0], release_pipe[1],
              error_pipe[0], error_pipe[1], target_pidfd, root_fd, console[0], console[1], helper_fd});
    *what = call;
    return saved;
  };
  target_pidfd = OpenRecorded(request.join_pid, request.join_start_time);
  if (target_pidfd < 0) return fail("open the container's PID 1 (pidfd_open)");
  std::string proc = "/proc/" + std::to_string(request.join_pid);
  root_fd = open((proc + "/root").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0) return fail("open /proc/PID/root");
  if (!Pipe(request_pipe) || !Pipe(report_pipe) || !Pipe(release_pipe) || !Pipe(error_pipe)) return fail("pipe2");
  if (!ConsoleSockets(request, console)) return fail("socketpair");
  if ((helper_fd = SealedCopy(request.helper_path.c_str())) < 0) return fail("copy minictr-init into a sealed memfd");
  const int keep[kJoinFds] = {request_pipe[0], report_pipe[1], error_pipe[1], release_pipe[0], target_pidfd, root_fd,
                              console[1]};
  std::vector<std::string> strings = {"minictr-init", "join"};
  for (int fd : keep) strings.push_back(std::to_string(fd));
  std::vector<char*> argv = PointerArray(strings);

  // 2. The joiner, which reports the pid of the process it cloned, {0, pid}, or {step, errno}, and exits. The
  //    request is written meanwhile (a pipe holds only so much); should the joiner fail first, its report says why.
  long joiner;
  {
    SignalsBlocked blocked;
    joiner = CloneProcess(0, nullptr);
    if (joiner == 0) RunJoiner(helper_fd, argv.data(), keep, report_pipe[1], request.exec_stdio);
  }
  if (joiner < 0) return fail("clone3");
  for (int* fd : {&request_pipe[0], &report_pipe[1], &release_pipe[0], &error_pipe[1], &target_pidfd, &root_fd,
                  &console[1], &helper_fd}) {
    CloseIfOpen(*fd);
    *fd = -1;
  }
  WriteFully(request_pipe[1], request.join_request.data(), request.join_request.size());
  close(request_pipe[1]);
  request_pipe[1] = -1;
  while (waitpid(static_cast<pid_t>(joiner), nullptr, 0) < 0 && errno == EINTR) {
  }
  int32_t report[2] = {kStepJoinNamespaces, EPIPE};  // a joiner that died without a word
  ReadFully(report_pipe[0], report, sizeof report);
  if (report[0] != 0) {
    errno = report[1];
    return fail(ChildStepName(report[0]));
  }
  // 3. The process is this process's child (CLONE_PARENT) and not yet reaped, so its pid is safe to open.
  int pid = report[1];
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) {
    int saved = errno;
    close(release_pipe[1]);  // the blocked process exits on EOF, and is reaped here
    release_pipe[1] = -1;
    while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    errno = saved;
    return fail("pidfd_open");
  }
  CloseAll({report_pipe[0]});
  result->pid = pid;
  result->pidfd = pidfd;
  result->console_fd = console[0];
  result->release_fd = release_pipe[1];
  result->error_fd = error_pipe[0];
  return 0;
}

int Spawn(const SpawnRequest& request, SpawnResult* result, const char** what) {
  // 1. Turn every string into the plain pointers the child will use; nothing is allocated after clone().
  ChildConfig config{};
  PreparedProcess prepared(request, &config);
  std::vector<EtcFile> etc_files;
  for (const auto& [path, content] : request.etc_files) {
    etc_files.push_back(EtcFile{path.c_str(), content.c_str(), content.size()});
  }
  std::vector<std::string> device_paths;
  for (const auto& device : request.devices) device_paths.push_back(device.path);
  std::vector<DeviceNodeConfig> devices;
  for (size_t i = 0; i < request.devices.size(); i++) {
    const auto& device = request.devices[i];
    devices.push_back(DeviceNodeConfig{device_paths[i].data(), static_cast<mode_t>((device.block ? S_IFBLK : S_IFCHR) | device.mode),
                                       makedev(device.major, device.minor)});
  }
  std::vector<MountConfig> mounts;
  for (const auto& mount : request.mounts) {
    mounts.push_back(MountConfig{mount.kind, mount.source.c_str(), mount.target.c_str(), mount.read_only, mount.data.c_str()});
  }
  const bool detached = !request.monitor_path.empty();
  std::vector<char*> monitor_argv = PointerArray(request.monitor_argv);
  std::vector<char*> monitor_envp = PointerArray(request.monitor_env);

  // 2. Pipes: release (parent → child) and error (child → parent); detached, also the container's stdout and
  //    stderr (→ monitor), the launch report (launcher → parent) and the handoff (parent → monitor). /dev/null is
  //    a detached container's stdin. minictr-init's sealed copy, made now, while the host's tree is visible.
  int release_pipe[2] = {-1, -1}, error_pipe[2] = {-1, -1}, out_pipe[2] = {-1, -1}, err_pipe[2] = {-1, -1};
  int report_pipe[2] = {-1, -1}, handoff_pipe[2] = {-1, -1}, console[2] = {-1, -1}, stdin_pipe[2] = {-1, -1};
  int null_fd = -1, helper_fd = -1, log_fd = -1;
  auto fail = [&](const char* call) {
    int saved = errno;
    CloseAll({release_pipe[0], release_pipe[1], error_pipe[0], error_pipe[1], out_pipe[0], out_pipe[1], err_pipe[0],
              err_pipe[1], report_pipe[0], report_pipe[1], handoff_pipe[0], handoff_pipe[1], null_fd, helper_fd, log_fd,
              console[0], console[1], stdin_pipe[0], stdin_pipe[1]});
    *what = call;
    return saved;
  };
  if (!Pipe(release_pipe) || !Pipe(error_pipe)) return fail("pipe2");
  if (!ConsoleSockets(request, console)) return fail("socketpair");
  config.console_fd = console[1];
  if (detached) {
    if (!Pipe(out_pipe) || !Pipe(err_pipe) || !Pipe(report_pipe) || !Pipe(handoff_pipe)) return fail("pipe2");
    if (request.keep_stdin && !Pipe(stdin_pipe)) return fail("pipe2");
    if ((null_fd = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0) return fail("open /dev/null");
    log_fd = open(request.monitor_log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (log_fd < 0) return fail("open the container log");
  }
  if ((helper_fd = SealedCopy(request.helper_path.c_str())) < 0) return fail("copy minictr-init into a sealed memfd");
  prepared.SetHelper(request, helper_fd, error_pipe[1], &config);

  config.release_fd = release_pipe[0];
  config.error_fd = error_pipe[1];
  for (int fd : {release_pipe[1], error_pipe[0], out_pipe[0], err_pipe[0], report_pipe[1], handoff_pipe[0],
                 handoff_pipe[1], log_fd, console[0], stdin_pipe[1]}) {
    if (fd >= 0) config.foreign_fds[config.foreign_fd_count++] = fd;
  }
  if (detached) {
    config.stdio[0] = stdin_pipe[0] >= 0 ? stdin_pipe[0] : null_fd;
    config.stdio[1] = out_pipe[1];
    config.stdio[2] = err_pipe[1];
  }
  config.hostname = request.hostname.c_str();
  config.configure_interface = request.configure_interface;
  config.ifname = request.ifname.c_str();
  config.address = request.address;
  config.netmask = request.netmask;
  config.gateway = request.gateway;
  config.overlay_target = request.overlay_target.c_str();
  config.overlay_options = request.overlay_options.c_str();
  config.etc_files = etc_files.data();
  config.etc_file_count = etc_files.size();
  config.devices = devices.data();
  config.device_count = devices.size();
  config.mounts = mounts.data();
  config.mount_count = mounts.size();
  uint64_t flags = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC;
  if (request.new_network) flags |= CLONE_NEWNET;
  LaunchConfig launch{&config,   flags,       report_pipe[1], {out_pipe[0], err_pipe[0]},
                      handoff_pipe[0], log_fd, console[0], stdin_pipe[1],
                      null_fd,   request.monitor_path.c_str(), monitor_argv.data(), monitor_envp.data()};

  // 3. clone3() without a stack behaves like fork(): the child continues here on a copy of this stack. All signals
  //    are blocked across it, so none runs one of Node's handlers in the child before it resets them (the child
  //    unblocks after resetting; the parent restores its mask right after). Detached, the clone is the launcher.
  int pidfd = -1;
  long pid;
  int saved;
  {
    SignalsBlocked blocked;
    pid = CloneProcess(detached ? 0 : flags, detached ? nullptr : &pidfd);
    if (pid == 0) {
      if (detached) RunLauncher(launch);
      RunChild(config);
    }
    saved = errno;
  }
  if (pid < 0) {
    errno = saved;
    return fail("clone3");
  }

  // 4. The parent keeps only its own ends. Detached: it reaps the launcher (which exits at once) and reads the pids.
  int error = 0;
  if (detached) {
    // The terminal's controller (-t) goes to the monitor, not here.
    CloseAll({out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1], report_pipe[1], handoff_pipe[0], null_fd, log_fd,
              console[0], stdin_pipe[0], stdin_pipe[1]});
    console[0] = -1;
    int status;
    while (waitpid(static_cast<pid_t>(pid), &status, 0) < 0 && errno == EINTR) {
    }
    error = ReadLaunchReport(report_pipe[0], result, what);
    result->handoff_fd = handoff_pipe[1];
    handoff_pipe[1] = -1;
  } else {
    result->pid = static_cast<int>(pid);
    result->pidfd = pidfd;
  }
  CloseAll({release_pipe[0], error_pipe[1], report_pipe[0], helper_fd, console[1]});
  result->release_fd = release_pipe[1];
  result->error_fd = error_pipe[0];
  result->console_fd = console[0];
  if (error != 0) {
    // The container (if cloned) exits when its release pipe closes, or with its parent the monitor.
    CloseAll({result->release_fd, result->error_fd, result->handoff_fd, result->console_fd});
    *result = SpawnResult{};
  }
  return error;
}

ReleaseOutcome Release(int release_fd, int error_fd) {
  ReleaseOutcome outcome;
  ssize_t written;
  do {
    written = write(release_fd, "go", 2);
  } while (written < 0 && errno == EINTR);
  int write_error = errno;
  CloseIfOpen(release_fd);
  if (written != 2) {
    CloseIfOpen(error_fd);
    outcome.step = kStepRelease;
    outcome.error = write_error;
    return outcome;
  }

  int32_t report[2];
  bool failed = ReadFully(error_fd, report, sizeof report) == sizeof report;
  CloseIfOpen(error_fd);
  if (failed) {
    outcome.step = report[0];
    outcome.error = report[1];
  }
  return outcome;
}

}  // namespace minictr
