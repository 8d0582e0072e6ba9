// minictr-init: `run --init`'s PID 1, in the spirit of tini (Docker's docker-init).
//
// A program written as PID 1 of a namespace is rare: the kernel ignores signals to PID 1 that it has no handler for,
// so SIGTERM from `minictr stop` does nothing to a shell or a web server and stop waits out its grace time; and
// orphaned processes are re-parented to PID 1, which must reap them or they stay zombies. This program runs the
// command as its child and does both jobs: every signal it gets goes to the command, and every child that exits is
// reaped. It exits as its command did (128 + N when signal N killed it, as a shell reports it).
//
// The container's child execs it from the host's file (an O_PATH descriptor opened before pivot_root), so no image
// needs to contain it:
//
//   minictr-init ERROR_FD PATH ARGV0 ARG...
//
//   ERROR_FD  the container's error pipe: an exec failure of PATH goes back to minictr as {exec, errno}, exactly as
//             without --init; a successful exec closes it
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>

#include "child.h"

int main(int argc, char** argv, char** envp) {
  if (argc < 4) return 125;
  int error_fd = atoi(argv[1]);

  // 1. Take every signal synchronously (sigwaitinfo below), and let the command start with none blocked.
  sigset_t all;
  sigset_t none;
  sigfillset(&all);
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &all, nullptr);

  pid_t child = fork();
  if (child == 0) {
    sigprocmask(SIG_SETMASK, &none, nullptr);
    fcntl(error_fd, F_SETFD, FD_CLOEXEC);
    execve(argv[2], argv + 3, envp);
    int32_t report[2] = {minictr::kStepExec, errno};
    ssize_t written = write(error_fd, report, sizeof report);
    (void)written;
    _exit(127);
  }
  close(error_fd);
  if (child < 0) return 125;

  // 2. Forward signals to the command; on SIGCHLD reap everything that exited, until the command itself has.
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
