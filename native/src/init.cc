// minictr-init: every container's first process, and `run --init`'s PID 1, in the spirit of tini (Docker's
// docker-init).
//
// A program written as PID 1 of a namespace is rare: the kernel ignores signals to PID 1 that it has no handler for,
// so SIGTERM from `minictr stop` does nothing to a shell or a web server and stop waits out its grace time; and
// orphaned processes are re-parented to PID 1, which must reap them or they stay zombies. With --init this program
// runs the command as its child and does both jobs: every signal it gets goes to the command, and every child that
// exits is reaped. It exits as its command did (128 + N when signal N killed it, as a shell reports it).
//
// The addon's clone of a container execs it at once (child_exec.cc) from a sealed in-memory copy of the host's file
// (a memfd made before the clone; see SealedCopy in spawn.cc), so no image needs to contain it and no container can
// write to the host's file. Its child mode reads the container's config from a memfd, runs the container's steps
// (RunChild, child.cc) and execs the command, or with --init runs it. Every container's command thus starts from
// it: until an execve() is done, /proc/self/exe is the program that called it, and a command whose script starts
// "#!/proc/self/exe" would otherwise have the kernel run the host's node inside the container, and keep a handle on
// its file (CVE-2019-5736 on runc; runc-dmz is its fix).
//
//   minictr-init child CONFIG_FD ERROR_FD
//   minictr-init init|exec ERROR_FD PATH ARGV0 ARG...
//   minictr-init join ...
//
//   child      a container's first process: CONFIG_FD, a sealed memfd, holds its config (child_request.h);
//              ERROR_FD is its error pipe, on which a failing step, and the command's exec, report {step, errno}
//   init       (minictr-oci) stay as PID 1: run the command as a child, forward signals, reap (this file)
//   exec       (minictr-oci) exec the command in place, nothing more
//   ERROR_FD   the container's error pipe: an exec failure of PATH goes back to minictr as {exec, errno}, exactly as
//              a failure of the container's own steps does; a successful exec closes it
//   join       `minictr exec`'s joiner: joins a running container and starts the command there (join.cc)
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "child.h"
#include "child_request.h"
#include "join.h"

namespace {

// Execs the command; on failure reports {exec, errno} on the error pipe and exits.
[[noreturn]] void ExecCommand(int error_fd, const char* path, char* const* argv, char* const* envp) {
  fcntl(error_fd, F_SETFD, FD_CLOEXEC);
  execve(path, argv, envp);
  minictr::ReportStep(error_fd, minictr::kStepExec, errno);
  _exit(127);
}

// --init: runs the command as this process's child until it exits, forwarding signals and reaping every child;
// returns the command's exit status.
int RunInit(int error_fd, const char* path, char* const* argv, char* const* envp) {
  prctl(PR_SET_NAME, "minictr-init");  // exec'd from a memfd, it would show as "memfd:minictr-i" in ps

  // 1. Take every signal synchronously (sigwaitinfo below), and let the command start with none blocked.
  sigset_t all;
  sigset_t none;
  sigfillset(&all);
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &all, nullptr);

  // 2. The command gets a process group of its own, the terminal's foreground group when there is one (-t): keys
  //    typed there (Ctrl-C) then signal the command once, directly, and not init as well, which would forward them
  //    a second time. Both sides set the group, so neither depends on which runs first.
  pid_t child = fork();
  if (child == 0) {
    setpgid(0, 0);
    if (isatty(STDIN_FILENO)) tcsetpgrp(STDIN_FILENO, getpid());  // SIGTTOU is blocked here, so this cannot stop us
    sigprocmask(SIG_SETMASK, &none, nullptr);
    ExecCommand(error_fd, path, argv, envp);
  }
  if (child < 0) {
    // Reported like any step that fails before the command runs: minictr exits 125, the container never started.
    minictr::ReportStep(error_fd, minictr::kStepInit, errno);
    return 125;
  }
  close(error_fd);
  setpgid(child, child);

  // 3. Forward signals to the command; on SIGCHLD reap everything that exited, until the command itself has.
  for (;;) {
    siginfo_t info;
    int signal = sigwaitinfo(&all, &info);
    if (signal < 0) continue;
    if (signal != SIGCHLD) {
      kill(child, signal);
      continue;
    }
    int status;
    for (pid_t pid; (pid = waitpid(-1, &status, WNOHANG)) > 0;) {
      if (pid != child) continue;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
  }
}

// A descriptor number given in argv: digits only, so that no script path (#!/proc/self/exe child) passes for one.
bool DescriptorArgument(const char* text, int* fd) {
  if (text[0] == '\0' || strlen(text) > 9 || strspn(text, "0123456789") != strlen(text)) return false;
  *fd = atoi(text);
  return true;
}

// The config memfd's whole content, then the memfd closed: nothing of it reaches the command.
bool ReadConfig(int config_fd, std::string* bytes) {
  char chunk[65536];
  ssize_t n;
  while ((n = read(config_fd, chunk, sizeof chunk)) > 0 || (n < 0 && errno == EINTR)) {
    if (n > 0) bytes->append(chunk, static_cast<size_t>(n));
  }
  int saved = errno;
  close(config_fd);
  errno = saved;
  return n == 0;
}

// Child mode: 1. the config, 2. the container's steps (RunChild: cgroups, release, namespaces' contents, profile),
// 3. the command, exec'd in place, or with --init run as this process's child, with no descriptor but stdio and
// the error pipe left open in this process.
[[noreturn]] void RunContainerChild(int config_fd, int error_fd) {
  errno = 0;
  std::string bytes;
  minictr::SpawnRequest request;
  minictr::ChildFds fds;
  if (!ReadConfig(config_fd, &bytes) || !minictr::DecodeChildRequest(bytes, &request, &fds) || fds.error != error_fd) {
    minictr::ReportStep(error_fd, minictr::kStepConfig, errno != 0 ? errno : EINVAL);
    _exit(127);
  }
  minictr::PreparedChild prepared(request, fds);
  minictr::RunChild(prepared.config);
  if (!request.init) ExecCommand(error_fd, request.exec_path.c_str(), prepared.argv.data(), prepared.config.envp);
  // --init: this process stays, holding nothing of the host's but what it needs. Dumpable again, as the exec it
  // replaces left it: what remains here is its own sealed binary (the CVE above) and what the container sees anyway.
  if (error_fd > 3) syscall(SYS_close_range, 3U, static_cast<unsigned>(error_fd - 1), 0U);
  syscall(SYS_close_range, static_cast<unsigned>(error_fd + 1), ~0U, 0U);
  prctl(PR_SET_DUMPABLE, 1);
  _exit(RunInit(error_fd, request.exec_path.c_str(), prepared.argv.data(), prepared.config.envp));
}

}  // namespace

int main(int argc, char** argv, char** envp) {
  if (argc >= 2 && strcmp(argv[1], "join") == 0) return minictr::RunJoin(argc, argv);
  int config_fd = -1;
  int error_fd = -1;
  if (argc == 4 && strcmp(argv[1], "child") == 0 && DescriptorArgument(argv[2], &config_fd) &&
      DescriptorArgument(argv[3], &error_fd)) {
    RunContainerChild(config_fd, error_fd);
  }
  // Anything else is not minictr calling: a script whose interpreter is /proc/self/exe (or /proc/1/exe, with --init)
  // lands here, with argv "INTERPRETER SCRIPT". Refused, as a command that cannot be executed, saying so.
  if (argc < 5 || (strcmp(argv[1], "exec") != 0 && strcmp(argv[1], "init") != 0)) {
    fprintf(stderr, "minictr-init: cannot run %s: its interpreter is minictr-init (#!/proc/self/exe?), which only starts "
                    "the container's commands\n", argc > 1 ? argv[1] : "a program");
    return 126;
  }
  int exec_error_fd = atoi(argv[2]);
  if (strcmp(argv[1], "exec") == 0) ExecCommand(exec_error_fd, argv[3], argv + 4, envp);
  return RunInit(exec_error_fd, argv[3], argv + 4, envp);
}
