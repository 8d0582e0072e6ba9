// minictr-init: `run --init`'s PID 1, in the spirit of tini (Docker's docker-init).
//
// A program written as PID 1 of a namespace is rare: the kernel ignores signals to PID 1 that it has no handler for,
// so SIGTERM from `minictr stop` does nothing to a shell or a web server and stop waits out its grace time; and
// orphaned processes are re-parented to PID 1, which must reap them or they stay zombies. This program runs the
// command as its child and does both jobs: every signal it gets goes to the command, and every child that exits is
// reaped. It exits as its command did (128 + N when signal N killed it, as a shell reports it).
//
// The container's child execs it from a sealed in-memory copy of the host's file (a memfd made before clone; see
// SealedCopy in spawn.cc), so no image needs to contain it and no container can write to the host's file. Every
// container's command goes through it, --init or not: until an execve() is done, /proc/self/exe is the program
// that called it, and a command whose script starts "#!/proc/self/exe" would otherwise have the kernel run the
// host's node inside the container, and keep a handle on its file (CVE-2019-5736 on runc; runc-dmz is its fix).
//
//   minictr-init init|exec ERROR_FD PATH ARGV0 ARG...
//   minictr-init join ...
//
//   init      stay as PID 1: run the command as a child, forward signals, reap (this file)
//   exec      exec the command in place, nothing more
//   ERROR_FD  the container's error pipe: an exec failure of PATH goes back to minictr as {exec, errno}, exactly as
//             a failure of the container's own steps does; a successful exec closes it
//   join      `minictr exec`'s joiner: joins a running container and starts the command there (join.cc)
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "child.h"
#include "join.h"

namespace {

// Execs the command; on failure reports {exec, errno} on the error pipe and exits.
[[noreturn]] void ExecCommand(int error_fd, char** argv, char** envp) {
  fcntl(error_fd, F_SETFD, FD_CLOEXEC);
  execve(argv[0], argv + 1, envp);
  minictr::ReportStep(error_fd, minictr::kStepExec, errno);
  _exit(127);
}

}  // namespace

int main(int argc, char** argv, char** envp) {
  if (argc >= 2 && strcmp(argv[1], "join") == 0) return minictr::RunJoin(argc, argv);
  // Anything else is not minictr calling: a script whose interpreter is /proc/self/exe (or /proc/1/exe, with --init)
  // lands here, with argv "INTERPRETER SCRIPT". Refused, as a command that cannot be executed, saying so.
  if (argc < 5 || (strcmp(argv[1], "exec") != 0 && strcmp(argv[1], "init") != 0)) {
    fprintf(stderr, "minictr-init: cannot run %s: its interpreter is minictr-init (#!/proc/self/exe?), which only starts "
                    "the container's commands\n", argc > 1 ? argv[1] : "a program");
    return 126;
  }
  int error_fd = atoi(argv[2]);
  if (strcmp(argv[1], "exec") == 0) ExecCommand(error_fd, argv + 3, envp);
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
    ExecCommand(error_fd, argv + 3, envp);
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
