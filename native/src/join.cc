// minictr-init's join mode: `minictr exec`'s joiner, from the moment it stops being a copy of Node.
//
// The addon forks the joiner from Node, still in the host's namespaces, where the container cannot see it, and it
// execs at once this program's sealed in-memory copy (SpawnExec in spawn.cc) with an empty environment. So nothing
// that becomes visible in the container's PID namespace is Node: not its binary, which a container keeping
// CAP_SYS_PTRACE could open through /proc/PID/exe and overwrite once minictr has exited, "not dumpable" or not
// (CVE-2019-5736), nor minictr's environment in /proc/PID/environ. runc's nsexec and runc-dmz do the same. Here:
//   (1) the request (the command, its environment, user, profile; src/container/join-request.ts builds it) is read
//       from a pipe: never argv, which the container can read in /proc/PID/cmdline;
//   (2) the joiner enters the container's cgroups (v1; on v2 it was cloned into it), so that the process is born
//       inside its limits;
//   (3) it joins the container's namespaces through a pidfd of its PID 1, and its root;
//   (4) it applies the security profile to itself (bounding set, user, capabilities, seccomp), so that
//   (5) the process it clones with CLONE_PARENT, in the container's PID namespace and minictr's child, is born with
//       the container's privileges; it waits for its release, and execs the command (RunJoinedChild);
//   (6) it reports that pid on the report pipe, {0, pid}, or the step that failed, {step, errno}, and exits.
//
//   minictr-init join REQUEST_FD REPORT_FD ERROR_FD RELEASE_FD PIDFD ROOT_FD CONSOLE_FD   (CONSOLE_FD -1: no -t)
#include "join.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "child.h"
#include "seccomp.h"

namespace minictr {

namespace {

// The request: NUL-terminated "key=value" entries (join-request.ts). Pointers point into the request's buffer.
struct JoinRequest {
  bool network = false;
  std::vector<const char*> cgroups;  // cgroup v1 `tasks` files (on v2 the joiner was cloned into the cgroup)
  char* workdir = nullptr;
  bool switch_user = false;
  uint64_t uid = 0;
  uint64_t gid = 0;
  bool privileged = false;
  uint64_t capabilities = 0;
  uint64_t rows = 24;
  uint64_t columns = 80;
  const char* path = nullptr;
  std::vector<char*> argv;
  std::vector<char*> envp;
  bool detach = false;  // minictr-oci exec --detach: the process outlives minictr
};

bool Number(const char* text, uint64_t max, uint64_t* out, int base = 10) {
  char* end = nullptr;
  errno = 0;
  unsigned long long value = strtoull(text, &end, base);
  if (errno != 0 || end == text || *end != '\0' || text[0] == '-' || value > max) return false;
  *out = value;
  return true;
}

bool Flag(const char* text, bool* out) {
  uint64_t value = 0;
  if (!Number(text, 1, &value)) return false;
  *out = value == 1;
  return true;
}

// Fills `request` from the buffer's entries; false (errno EINVAL) on an unknown key or a malformed value. A uid
// means --user: switch_user is set with it.
bool ParseRequest(std::vector<char>& buffer, JoinRequest* request) {
  bool ok = !buffer.empty() && buffer.back() == '\0';
  for (size_t at = 0; ok && at < buffer.size();) {
    char* key = buffer.data() + at;
    at += strlen(key) + 1;
    char* value = strchr(key, '=');
    if (value == nullptr) {
      ok = false;
      break;
    }
    *value++ = '\0';
    if (strcmp(key, "network") == 0) ok = Flag(value, &request->network);
    else if (strcmp(key, "cgroup") == 0) request->cgroups.push_back(value);
    else if (strcmp(key, "workdir") == 0) request->workdir = value;
    else if (strcmp(key, "uid") == 0) ok = request->switch_user = Number(value, 0xfffffffe, &request->uid);
    else if (strcmp(key, "gid") == 0) ok = Number(value, 0xfffffffe, &request->gid);
    else if (strcmp(key, "privileged") == 0) ok = Flag(value, &request->privileged);
    else if (strcmp(key, "capabilities") == 0) ok = Number(value, UINT64_MAX, &request->capabilities, 16);
    else if (strcmp(key, "rows") == 0) ok = Number(value, 65535, &request->rows) && request->rows > 0;
    else if (strcmp(key, "columns") == 0) ok = Number(value, 65535, &request->columns) && request->columns > 0;
    else if (strcmp(key, "path") == 0) request->path = value;
    else if (strcmp(key, "arg") == 0) request->argv.push_back(value);
    else if (strcmp(key, "env") == 0) request->envp.push_back(value);
    else if (strcmp(key, "detach") == 0) ok = Flag(value, &request->detach);
    else ok = false;
  }
  ok = ok && request->workdir != nullptr && request->workdir[0] == '/' && request->path != nullptr &&
       !request->argv.empty();
  request->argv.push_back(nullptr);
  request->envp.push_back(nullptr);
  if (!ok) errno = EINVAL;
  return ok;
}

bool ReadAll(int fd, std::vector<char>* buffer) {
  char chunk[65536];
  for (;;) {
    ssize_t n = read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (n == 0) return true;
    buffer->insert(buffer->end(), chunk, chunk + n);
  }
}

// Writes "0" (the writer's one thread, so all of it) into each `tasks` file: moving a thread, the kernel skips
// cgroup_threadgroup_rwsem's write side and the RCU grace period it waits for (see EnterCgroups in child.h).
bool JoinCgroups(const JoinRequest& request) {
  for (const char* path : request.cgroups) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return false;
    bool ok = write(fd, "0", 1) == 1;
    int saved = errno;
    close(fd);
    errno = saved;
    if (!ok) return false;
  }
  return true;
}

// The exec'd process: a ProcessConfig (child.h) and the command it execs itself, being minictr-init's copy already.
struct JoinedConfig : ProcessConfig {
  const char* exec_path;
  char* const* exec_argv;
  bool detach;
};

// The exec'd process, from clone() to execve(): the part of a container child's steps that is not done already.
// The container's PID 1 made the namespaces and the root, and the joiner applied the profile.
[[noreturn]] void RunJoinedChild(const JoinedConfig& config) {
  AwaitRelease(config);
  // --detach: minictr waits only for the exec, so it is alive until this is cleared.
  if (config.detach) prctl(PR_SET_PDEATHSIG, 0);
  if (chdir(config.workdir) < 0) FailStep(config, kStepWorkdir);
  int stdio[3];
  EnterSession(config, stdio);
  PrepareExec(config, stdio);
  execve(config.exec_path, config.exec_argv, config.envp);
  FailStep(config, kStepExec);
}

[[noreturn]] void Report(int report_fd, int32_t step, int32_t value) {
  ReportStep(report_fd, step, value);
  _exit(step == 0 ? 0 : 125);
}

}  // namespace

int RunJoin(int argc, char** argv) {
  constexpr int kFds = 7;
  if (argc != 2 + kFds) return 125;
  int fds[kFds];
  for (int i = 0; i < kFds; i++) fds[i] = atoi(argv[2 + i]);
  const int request_fd = fds[0], report_fd = fds[1], error_fd = fds[2], release_fd = fds[3], pidfd = fds[4],
            root_fd = fds[5], console_fd = fds[6];
  // Not dumpable, and so is the clone below: its memory holds the command's environment, and its descriptors
  // reach minictr.
  prctl(PR_SET_DUMPABLE, 0);
  prctl(PR_SET_NAME, "minictr-init");  // exec'd from a memfd, it would show as "memfd:minictr-i" in ps

  // 1. The request.
  std::vector<char> buffer;
  JoinRequest request;
  if (!ReadAll(request_fd, &buffer) || !ParseRequest(buffer, &request)) Report(report_fd, kStepJoinRequest, errno);
  close(request_fd);

  // 2-3. Cgroups while the host's tree is visible, then namespaces and root.
  if (!JoinCgroups(request)) Report(report_fd, kStepJoinCgroup, errno);
  int namespaces = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID | (request.network ? CLONE_NEWNET : 0);
  if (setns(pidfd, namespaces) < 0 || fchdir(root_fd) < 0 || chroot(".") < 0) {
    Report(report_fd, kStepJoinNamespaces, errno);
  }

  // 4-5. The process's config: its release, stdio and terminal, and the profile (child.h), and the command.
  JoinedConfig config{};
  config.release_fd = release_fd;
  config.error_fd = error_fd;
  for (int fd : {report_fd, pidfd, root_fd}) config.foreign_fds[config.foreign_fd_count++] = fd;
  for (int& fd : config.stdio) fd = -1;  // the joiner's: minictr placed them (RunJoiner in spawn.cc)
  config.console_fd = console_fd;
  config.rows = static_cast<unsigned short>(request.rows);
  config.columns = static_cast<unsigned short>(request.columns);
  config.workdir = request.workdir;
  config.privileged = request.privileged;
  config.capabilities = request.capabilities;
  SeccompProgram seccomp(request.privileged, request.capabilities);
  config.seccomp = seccomp.get();
  config.switch_user = request.switch_user;
  config.uid = static_cast<uint32_t>(request.uid);
  config.gid = static_cast<uint32_t>(request.gid);
  config.envp = request.envp.data();
  config.exec_path = request.path;
  config.exec_argv = request.argv.data();
  config.detach = request.detach;
  //      The security profile, here, before the process exists: the moment it is cloned it is visible in the
  //    container's PID namespace, and a container keeping CAP_SYS_PTRACE may attach to it at once. Born with the
  //    container's capabilities, user and seccomp filter, it has nothing more to give than the container has. The
  //    filter answers clone3() with ENOSYS, so the clone is the classic clone() (no stack: it returns twice, as
  //    fork does; with CLONE_PARENT the exit signal is the joiner's own, SIGCHLD, and minictr is the parent).
  int32_t failed = ApplyProcessProfile(config);
  if (failed != 0) Report(report_fd, failed, errno);
  long pid = syscall(SYS_clone, CLONE_PARENT, nullptr, nullptr, nullptr, nullptr);
  if (pid == 0) RunJoinedChild(config);
  if (pid < 0) Report(report_fd, kStepJoinNamespaces, errno);

  // 6. Done: the process waits for its release.
  Report(report_fd, 0, static_cast<int32_t>(pid));
}

}  // namespace minictr
