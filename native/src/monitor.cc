// minictr-monitor: the parent of a detached container (`run -d`), in the spirit of conmon and containerd-shim.
//
// minictr exits as soon as a detached container runs, so something else must stay: wait for the container's PID 1,
// keep its output, record how it ended and start its teardown. This program does only that, in one thread with one
// poll() loop and fixed buffers, linked statically so that it costs well under 1 MiB of memory per container.
//
//   minictr-monitor EXIT EXIT-RESERVE LOG MAX-SIZE MAX-FILE -- CLEANUP...
//
//   EXIT     written once PID 1 has exited and its output is logged: {"exitCode":N,"signal":N,"finishedAt":"..."},
//            into EXIT-RESERVE, a file minictr allocated for it, which is then renamed: no new space is needed, so
//            the status is recorded even on a full file system (`logs -f` stops at it)
//   LOG      the log's path, for rotation: a record that would take the file past MAX-SIZE bytes first moves
//            LOG.(MAX-FILE - 2) … LOG.1 up one (the oldest is dropped), LOG to LOG.1, and starts a new LOG; with
//            MAX-FILE 1, LOG is removed and starts over. Output that cannot be written (a full file system) is
//            dropped, a record whole, as Docker drops it: the pipes are drained whatever happens
//   CLEANUP  the command exec'd last, in place of this process (`minictr cleanup ID`): it tears the container down
//   fd 3, 4  read ends of the container's stdout and stderr pipes
//   fd 5     read end of the handoff pipe: minictr writes one byte once the record names this process as owner,
//            then closes it. EOF without that byte means minictr died or gave up: PID 1 is killed (it may have been
//            released already). The cleanup then finds minictr as owner (alive: it tears down itself; dead: the
//            cleanup does, as gc would), or this process, if minictr died just after naming it (then it is kept
//            as exited, 137).
//   fd 6     a pidfd of the container's PID 1, whose parent this process is (the launcher in spawn.cc cloned it,
//            then exec'd this program): nobody else can reap it, so its pid cannot be reused meanwhile
//   fd 7     the log file (opened at LOG by minictr), in the CRI format of Kubernetes runtimes, one record per line:
//            "<RFC 3339 time with ns> <stdout|stderr> <F|P> <text>" (F: a full line; P: part of a longer one)
//   fd 8     -t only: a socket on which the container's child sends its pseudo-terminal's controller before exec;
//            everything the terminal shows is then logged as stdout
//   fd 9     -i only: the write end of the container's stdin, held open and never written, so that a shell reading
//            it waits instead of seeing end-of-file (docker run -di)
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
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

// The log being written: its current file, and how to rotate it.
struct Log {
  const char* path;
  unsigned long long max_size;
  long max_file;
  int fd;                     // -1 when no file could be opened: records are dropped, and the next one tries again
  unsigned long long size;    // bytes in the current file (this process is its only writer)
};

Log log_file = {nullptr, 0, 0, kLogFd, 0};

void OpenLog() {
  log_file.fd = open(log_file.path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  struct stat st;
  log_file.size = log_file.fd >= 0 && fstat(log_file.fd, &st) == 0 ? static_cast<unsigned long long>(st.st_size) : 0;
}

// LOG.N; false when the name does not fit.
bool RotatedName(char* out, size_t size, long n) {
  int length = snprintf(out, size, "%s.%ld", log_file.path, n);
  return length > 0 && static_cast<size_t>(length) < size;
}

// LOG.(max-2) … LOG.1 move up one (renaming over the oldest drops it), LOG becomes LOG.1, and a new LOG is opened.
// A name that does not exist yet fails to move, which is fine.
void Rotate() {
  close(log_file.fd);
  if (log_file.max_file == 1) unlink(log_file.path);
  char from[4096];
  char to[4096];
  for (long n = log_file.max_file - 1; n >= 1; n--) {
    if (!RotatedName(to, sizeof to, n)) continue;
    if (n == 1) {
      rename(log_file.path, to);
    } else if (RotatedName(from, sizeof from, n - 1)) {
      rename(from, to);
    }
  }
  OpenLog();
}

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

// One record in one write(), into a file rotated first if the record would take it past the maximum size.
void WriteRecord(const Stream& stream, const char* text, size_t length, bool full) {
  char head[64];
  size_t n = FormatTime(head, sizeof head);
  n += static_cast<size_t>(snprintf(head + n, sizeof head - n, " %s %c ", stream.name, full ? 'F' : 'P'));
  size_t record = n + length + 1;
  if (log_file.fd < 0) {
    OpenLog();
  } else if (log_file.size > 0 && log_file.size + record > log_file.max_size) {
    Rotate();
  }
  if (log_file.fd < 0) return;
  struct iovec parts[3] = {{head, n}, {const_cast<char*>(text), length}, {const_cast<char*>("\n"), 1}};
  ssize_t written;
  while ((written = writev(log_file.fd, parts, 3)) < 0 && errno == EINTR) {
  }
  if (written >= 0 && static_cast<size_t>(written) == record) {
    log_file.size += record;
    return;
  }
  // A full file system cut the record short: cut it off whole (which needs no space), so no reader sees part of
  // it and the next record starts a line of its own. Should that fail too, the part stays, and counts.
  if (written > 0 && ftruncate(log_file.fd, static_cast<off_t>(log_file.size)) < 0) {
    log_file.size += static_cast<size_t>(written);
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

void WriteExitFile(const char* path, const char* reserve, const siginfo_t& info) {
  char finished[40];
  FormatTime(finished, sizeof finished);
  char text[160];
  bool exited = info.si_code == CLD_EXITED;
  int length = exited ? snprintf(text, sizeof text, "{\"exitCode\":%d,\"signal\":null,\"finishedAt\":\"%s\"}\n",
                                 info.si_status, finished)
                      : snprintf(text, sizeof text, "{\"exitCode\":null,\"signal\":%d,\"finishedAt\":\"%s\"}\n",
                                 info.si_status, finished);
  // Written over the reserve's first bytes and cut there: its blocks are already allocated.
  int fd = open(reserve, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return;
  bool ok = pwrite(fd, text, static_cast<size_t>(length), 0) == length && ftruncate(fd, length) == 0;
  close(fd);
  if (ok) rename(reserve, path);
}

// The stdout and stderr pipes, and with -t the terminal's controller once it arrives.
Stream streams[3] = {{kStdoutFd, "stdout", {}, 0}, {kStderrFd, "stderr", {}, 0}, {-1, "stdout", {}, 0}};

}  // namespace

int main(int argc, char** argv) {
  char* end_size = nullptr;
  char* end_files = nullptr;
  if (argc >= 8) {
    log_file.path = argv[3];
    log_file.max_size = strtoull(argv[4], &end_size, 10);
    log_file.max_file = strtol(argv[5], &end_files, 10);
  }
  if (argc < 8 || strcmp(argv[6], "--") != 0 || *end_size != '\0' || log_file.max_size == 0 || *end_files != '\0' ||
      log_file.max_file < 1) {
    static const char usage[] = "usage: minictr-monitor EXIT EXIT-RESERVE LOG MAX-SIZE MAX-FILE -- CLEANUP...\n";
    ssize_t written = write(2, usage, sizeof usage - 1);
    (void)written;
    return 2;
  }
  const char* exit_path = argv[1];
  const char* exit_reserve = argv[2];
  const int pidfd = kPidFd;

  // 1. Nothing of ours left open for the teardown command; a hangup of whatever terminal started minictr is not
  //    a reason to stop.
  for (int fd = kStdoutFd; fd <= kStdinFd; fd++) fcntl(fd, F_SETFD, FD_CLOEXEC);  // fds 8 and 9 may not be open
  signal(SIGHUP, SIG_IGN);
  struct stat st;
  if (fstat(kLogFd, &st) == 0) log_file.size = static_cast<unsigned long long>(st.st_size);
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
  WriteExitFile(exit_path, exit_reserve, info);

  // 3. Become the teardown: `minictr cleanup` keeps this pid and start time, so it is still the container's
  //    recorded owner while it undoes the journal (and gc knows, should it die, that nobody is).
  if (log_file.fd >= 0) close(log_file.fd);
  execv(argv[7], argv + 7);
  return 127;
}
