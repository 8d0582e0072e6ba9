// minictr-monitor: the parent of a detached container (`run -d`), in the spirit of conmon and containerd-shim.
//
// minictr exits as soon as a detached container runs, so something else must stay: wait for the container's PID 1,
// keep its output, record how it ended and start its teardown. This program does only that, in one thread with one
// poll() loop and fixed buffers, linked statically so that it costs well under 1 MiB of memory per container.
//
//   minictr-monitor EXIT -- CLEANUP...
//
//   EXIT     written once PID 1 has exited and its output is logged: {"exitCode":N,"signal":N,"finishedAt":"..."}
//            (temp file + rename; `logs -f` stops at it)
//   CLEANUP  the command exec'd last, in place of this process (`minictr cleanup ID`): it tears the container down
//   fd 3, 4  read ends of the container's stdout and stderr pipes
//   fd 5     read end of the handoff pipe: minictr writes one byte once the record names this process as owner,
//            then closes it. EOF without that byte means minictr died or gave up: PID 1 is killed (it may have been
//            released already). The cleanup then finds minictr as owner (alive: it tears down itself; dead: the
//            cleanup does, as gc would), or this process, if minictr died just after naming it (then it is kept
//            as exited, 137).
//   fd 6     a pidfd of the container's PID 1, whose parent this process is (the launcher in spawn.cc cloned it,
//            then exec'd this program): nobody else can reap it, so its pid cannot be reused meanwhile
//   fd 7     the log file (opened by minictr), in the CRI format of Kubernetes runtimes, one record per line:
//            "<RFC 3339 time with ns> <stdout|stderr> <F|P> <text>" (F: a full line; P: part of a longer one)
//   fd 8     -t only: a socket on which the container's child sends its pseudo-terminal's controller before exec;
//            everything the terminal shows is then logged as stdout
//   fd 9     -i only: the write end of the container's stdin, held open and never written, so that a shell reading
//            it waits instead of seeing end-of-file (docker run -di)
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "fd_passing.h"

namespace {

constexpr int kStdoutFd = 3;
constexpr int kStderrFd = 4;
constexpr int kHandoffFd = 5;
constexpr int kPidFd = 6;
constexpr int kLogFd = 7;
constexpr int kConsoleFd = 8;
constexpr int kStdinFd = 9;
// A line longer than this is logged in parts (P records), as CRI runtimes do.
constexpr size_t kLineMax = 16384;

// One output stream of the container: the bytes of its current, unfinished line.
struct Stream {
  int fd;
  const char* name;
  char line[kLineMax];
  size_t length;
};

const int log_fd = kLogFd;

// "2026-11-27T03:49:49.123456789Z": at most 31 bytes.
size_t FormatTime(char* out, size_t size) {
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  struct tm utc;
  gmtime_r(&now.tv_sec, &utc);
  size_t n = strftime(out, size, "%Y-%m-%dT%H:%M:%S", &utc);
  int more = snprintf(out + n, size - n, ".%09ldZ", now.tv_nsec);
  return n + (more > 0 ? static_cast<size_t>(more) : 0);
}

// One record in one write(): O_APPEND keeps records whole even if a reader races with us.
void WriteRecord(const Stream& stream, const char* text, size_t length, bool full) {
  char head[64];
  size_t n = FormatTime(head, sizeof head);
  n += static_cast<size_t>(snprintf(head + n, sizeof head - n, " %s %c ", stream.name, full ? 'F' : 'P'));
  struct iovec parts[3] = {{head, n}, {const_cast<char*>(text), length}, {const_cast<char*>("\n"), 1}};
  ssize_t written;
  while ((written = writev(log_fd, parts, 3)) < 0 && errno == EINTR) {
  }
  // A full file system cuts a record short: end its line anyway, or the next record would be glued to it.
  if (written >= 0 && static_cast<size_t>(written) < n + length + 1) {
    ssize_t newline = write(log_fd, "\n", 1);
    (void)newline;
  }
}

// Appends what was read to the current line and logs every line it completes. Returns false at EOF or error.
bool Drain(Stream& stream) {
  char buffer[kLineMax];
  ssize_t got = read(stream.fd, buffer, sizeof buffer);
  if (got < 0 && errno == EINTR) return true;
  if (got <= 0) {
    if (stream.length > 0) WriteRecord(stream, stream.line, stream.length, false);
    stream.length = 0;
    close(stream.fd);
    stream.fd = -1;
    return false;
  }
  for (ssize_t i = 0; i < got; i++) {
    if (buffer[i] == '\n') {
      WriteRecord(stream, stream.line, stream.length, true);
      stream.length = 0;
      continue;
    }
    if (stream.length == kLineMax) {
      WriteRecord(stream, stream.line, stream.length, false);
      stream.length = 0;
    }
    stream.line[stream.length++] = buffer[i];
  }
  return true;
}

void WriteExitFile(const char* path, const siginfo_t& info) {
  char finished[40];
  FormatTime(finished, sizeof finished);
  char text[160];
  bool exited = info.si_code == CLD_EXITED;
  int length = exited ? snprintf(text, sizeof text, "{\"exitCode\":%d,\"signal\":null,\"finishedAt\":\"%s\"}\n",
                                 info.si_status, finished)
                      : snprintf(text, sizeof text, "{\"exitCode\":null,\"signal\":%d,\"finishedAt\":\"%s\"}\n",
                                 info.si_status, finished);
  char temporary[4096];
  if (snprintf(temporary, sizeof temporary, "%s.tmp", path) >= static_cast<int>(sizeof temporary)) return;
  int fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return;
  bool ok = write(fd, text, static_cast<size_t>(length)) == length;
  close(fd);
  if (!ok || rename(temporary, path) < 0) unlink(temporary);
}

// The stdout and stderr pipes, and with -t the terminal's controller once it arrives.
Stream streams[3] = {{kStdoutFd, "stdout", {}, 0}, {kStderrFd, "stderr", {}, 0}, {-1, "stdout", {}, 0}};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4 || strcmp(argv[2], "--") != 0) {
    static const char usage[] = "usage: minictr-monitor EXIT -- CLEANUP...\n";
    ssize_t written = write(2, usage, sizeof usage - 1);
    (void)written;
    return 2;
  }
  const char* exit_path = argv[1];
  const int pidfd = kPidFd;

  // 1. Nothing of ours left open for the teardown command; a hangup of whatever terminal started minictr is not
  //    a reason to stop.
  for (int fd = kStdoutFd; fd <= kStdinFd; fd++) fcntl(fd, F_SETFD, FD_CLOEXEC);  // fds 8 and 9 may not be open
  signal(SIGHUP, SIG_IGN);
  bool awaiting_console = fcntl(kConsoleFd, F_GETFD) >= 0;

  // 2. Until PID 1 is reaped, both pipes are at EOF and the handoff is done: log output, reap, wait for minictr.
  //    After PID 1 exits the kernel kills the rest of its PID namespace, so the pipes' EOF follows promptly.
  siginfo_t info;
  memset(&info, 0, sizeof info);
  bool reaped = false;
  bool handed_off = false;
  bool committed = false;
  while (!reaped || streams[0].fd >= 0 || streams[1].fd >= 0 || streams[2].fd >= 0 || !handed_off ||
         awaiting_console) {
    struct pollfd fds[6] = {{streams[0].fd, POLLIN, 0},
                            {streams[1].fd, POLLIN, 0},
                            {streams[2].fd, POLLIN, 0},
                            {reaped ? -1 : pidfd, POLLIN, 0},
                            {handed_off ? -1 : kHandoffFd, POLLIN, 0},
                            {awaiting_console ? kConsoleFd : -1, POLLIN, 0}};
    if (poll(fds, 6, -1) < 0) {
      if (errno == EINTR) continue;
      return 1;
    }
    for (int i = 0; i < 3; i++) {
      if (fds[i].revents != 0) Drain(streams[i]);
    }
    if (fds[5].revents != 0) {
      streams[2].fd = minictr::ReceiveFd(kConsoleFd, 0);  // -1: the child died before sending it
      awaiting_console = false;
      close(kConsoleFd);
    }
    if (fds[3].revents != 0) {
      while (waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd), &info, WEXITED) < 0 && errno == EINTR) {
      }
      reaped = true;
    }
    if (fds[4].revents != 0) {
      char byte;
      ssize_t got = read(kHandoffFd, &byte, 1);
      if (got == 1) committed = true;
      if (got == 0 || (got < 0 && errno != EINTR)) {
        handed_off = true;
        if (!committed && !reaped) syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0);
      }
    }
  }
  WriteExitFile(exit_path, info);

  // 3. Become the teardown: `minictr cleanup` keeps this pid and start time, so it is still the container's
  //    recorded owner while it undoes the journal (and gc knows, should it die, that nobody is).
  close(log_fd);
  execv(argv[3], argv + 3);
  return 127;
}
