// Parent side of starting a container.
//
// clone3() creates the child in new PID, mount, UTS, IPC and (unless --network host) network namespaces and hands
// back a pidfd, so the exit can later be watched on the event loop without racing pid reuse. The child starts
// blocked on the release pipe; the agent builds the host side of the network meanwhile and then calls Release().
#include "spawn.h"

#include <fcntl.h>
#include <linux/sched.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "child.h"
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

// The highest capability number the running kernel knows; 40 (CAP_CHECKPOINT_RESTORE) when unreadable.
int ReadCapLast() {
  int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 40;
  char text[16] = {0};
  ssize_t n = read(fd, text, sizeof text - 1);
  close(fd);
  int value = n > 0 ? atoi(text) : 0;
  return value > 0 && value < 64 ? value : 40;
}

void CloseIfOpen(int fd) {
  if (fd >= 0) close(fd);
}

}  // namespace

int Spawn(const SpawnRequest& request, SpawnResult* result, const char** what) {
  // 1. Turn every string into the plain pointers the child will use; nothing is allocated after clone().
  std::vector<char*> argv = PointerArray(request.argv);
  std::vector<char*> envp = PointerArray(request.env);
  std::vector<EtcFile> etc_files;
  for (const auto& [path, content] : request.etc_files) {
    etc_files.push_back(EtcFile{path.c_str(), content.c_str(), content.size()});
  }
  std::vector<char> workdir(request.workdir.begin(), request.workdir.end());
  workdir.push_back('\0');

  // 2. Two pipes, close-on-exec so no other program Node starts inherits them: release (parent → child) and
  //    error (child → parent).
  int release_pipe[2];
  int error_pipe[2];
  if (pipe2(release_pipe, O_CLOEXEC) < 0) {
    *what = "pipe2";
    return errno;
  }
  if (pipe2(error_pipe, O_CLOEXEC) < 0) {
    int saved = errno;
    close(release_pipe[0]);
    close(release_pipe[1]);
    *what = "pipe2";
    return saved;
  }

  ChildConfig config{};
  config.release_fd = release_pipe[0];
  config.error_fd = error_pipe[1];
  config.parent_ends[0] = release_pipe[1];
  config.parent_ends[1] = error_pipe[0];
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
  config.workdir = workdir.data();
  config.privileged = request.privileged;
  config.capabilities = request.capabilities;
  config.cap_last = ReadCapLast();
  std::vector<sock_filter> filter;
  sock_fprog seccomp{};
  if (!request.privileged) {
    filter = BuildSeccompFilter(request.capabilities);
    seccomp.len = static_cast<unsigned short>(filter.size());
    seccomp.filter = filter.data();
  }
  config.seccomp = request.privileged ? nullptr : &seccomp;
  config.read_only = request.read_only;
  config.switch_user = request.switch_user;
  config.uid = request.uid;
  config.gid = request.gid;
  config.exec_path = request.exec_path.c_str();
  config.argv = argv.data();
  config.envp = envp.data();

  // 3. clone3() without a stack behaves like fork(): the child continues here on a copy of this stack. All signals
  //    are blocked across it, so none runs one of Node's handlers in the child before it resets them (the child
  //    unblocks after resetting; the parent restores its mask right after).
  sigset_t all_signals;
  sigset_t saved_mask;
  sigfillset(&all_signals);
  pthread_sigmask(SIG_SETMASK, &all_signals, &saved_mask);
  int pidfd = -1;
  struct clone_args args;
  memset(&args, 0, sizeof args);
  args.flags = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_PIDFD;
  if (request.new_network) args.flags |= CLONE_NEWNET;
  args.pidfd = reinterpret_cast<uint64_t>(&pidfd);
  args.exit_signal = SIGCHLD;
  long pid = syscall(SYS_clone3, &args, sizeof args);
  if (pid == 0) RunChild(config);
  int saved = errno;
  pthread_sigmask(SIG_SETMASK, &saved_mask, nullptr);

  // 4. The parent keeps only its own ends.
  close(release_pipe[0]);
  close(error_pipe[1]);
  if (pid < 0) {
    close(release_pipe[1]);
    close(error_pipe[0]);
    *what = "clone3";
    return saved;
  }
  result->pid = static_cast<int>(pid);
  result->pidfd = pidfd;
  result->release_fd = release_pipe[1];
  result->error_fd = error_pipe[0];
  return 0;
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
  size_t have = 0;
  while (have < sizeof report) {
    ssize_t n = read(error_fd, reinterpret_cast<char*>(report) + have, sizeof report - have);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    have += static_cast<size_t>(n);
  }
  CloseIfOpen(error_fd);
  if (have == sizeof report) {
    outcome.step = report[0];
    outcome.error = report[1];
  }
  return outcome;
}

}  // namespace minictr
