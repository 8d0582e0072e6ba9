// minictr-monitor: the parent of a detached container (`run -d`), in the spirit of conmon and containerd-shim.
//
// minictr exits as soon as a detached container runs, so something else must stay: wait for the container's PID 1,
// keep its output, record how it ended and start its teardown. This program does only that, in one thread with one
// poll() loop and fixed buffers, without a C library (nolibc.h), so that it costs a few pages per container.
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
#include "nolibc.h"

namespace {

constexpr int kStdoutFd = 3;
constexpr int kStderrFd = 4;
constexpr int kHandoffFd = 5;
constexpr int kPidFd = 6;
constexpr int kLogFd = 7;
constexpr int kConsoleFd = 8;
constexpr int kStdinFd = 9;
constexpr int kSeekEnd = 2;
// A line longer than this is logged in parts (P records), as CRI runtimes do.
constexpr size_t kLineMax = 16384;

// Text built in a fixed buffer; `ok` turns false, for good, once something did not fit.
struct Text {
  char* data;
  size_t size;
  size_t length = 0;
  bool ok = true;

  Text& Add(const char* text) {
    while (*text != '\0') AddChar(*text++);
    return *this;
  }
  Text& AddChar(char c) {
    if (length + 1 < size) {
      data[length++] = c;
      data[length] = '\0';
    } else {
      ok = false;
    }
    return *this;
  }
  // At least `width` digits, zero-padded.
  Text& AddNumber(unsigned long long value, int width = 1) {
    char digits[20];
    int n = 0;
    do {
      digits[n++] = static_cast<char>('0' + value % 10);
      value /= 10;
    } while (value > 0 || n < width);
    while (n > 0) AddChar(digits[--n]);
    return *this;
  }
};

bool Equal(const char* a, const char* b) {
  while (*a != '\0' && *a == *b) a++, b++;
  return *a == *b;
}

// One output stream of the container: the bytes of its current, unfinished line.
struct Stream {
  int fd;
  const char* name;
  size_t length;
  char line[kLineMax];
};

// The log being written: its current file, and how to rotate it.
struct Log {
  const char* path;
  unsigned long long max_size;
  unsigned long long max_file;
  int fd;                     // -1 when no file could be opened: records are dropped, and the next one tries again
  unsigned long long size;    // bytes in the current file (this process is its only writer)
};

Log log_file = {nullptr, 0, 0, kLogFd, 0};

// The size of the file at `fd` (opened for appending), 0 when unknown.
unsigned long long SizeOf(int fd) {
  long end = sys::Seek(fd, 0, kSeekEnd);
  return end > 0 ? static_cast<unsigned long long>(end) : 0;
}

void OpenLog() {
  log_file.fd = sys::Open(log_file.path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  log_file.size = log_file.fd >= 0 ? SizeOf(log_file.fd) : 0;
  if (log_file.fd < 0) log_file.fd = -1;
}

// LOG.N; false when the name does not fit.
bool RotatedName(char* out, size_t size, unsigned long long n) {
  return Text{out, size}.Add(log_file.path).AddChar('.').AddNumber(n).ok;
}

// LOG.(max-2) … LOG.1 move up one (renaming over the oldest drops it), LOG becomes LOG.1, and a new LOG is opened.
// A name that does not exist yet fails to move, which is fine.
void Rotate() {
  sys::Close(log_file.fd);
  if (log_file.max_file == 1) sys::Unlink(log_file.path);
  char from[4096];
  char to[4096];
  for (unsigned long long n = log_file.max_file - 1; n >= 1; n--) {
    if (!RotatedName(to, sizeof to, n)) continue;
    if (n == 1) {
      sys::Rename(log_file.path, to);
    } else if (RotatedName(from, sizeof from, n - 1)) {
      sys::Rename(from, to);
    }
  }
  OpenLog();
}

// "2026-11-27T03:49:49.123456789Z" (the calendar from days since 1970: Howard Hinnant's civil_from_days).
void FormatTime(Text& out) {
  struct __kernel_timespec now = {0, 0};
  sys::ClockRealtime(&now);
  long long days = now.tv_sec / 86400;
  long long second_of_day = now.tv_sec % 86400;
  days += 719468;
  long long era = days / 146097;
  long long day_of_era = days - era * 146097;
  long long year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  long long day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  long long month_index = (5 * day_of_year + 2) / 153;  // from March
  long long day = day_of_year - (153 * month_index + 2) / 5 + 1;
  long long month = month_index < 10 ? month_index + 3 : month_index - 9;
  long long year = year_of_era + era * 400 + (month <= 2 ? 1 : 0);
  out.AddNumber(static_cast<unsigned long long>(year), 4).AddChar('-').AddNumber(month, 2).AddChar('-').AddNumber(day, 2);
  out.AddChar('T').AddNumber(second_of_day / 3600, 2).AddChar(':').AddNumber(second_of_day / 60 % 60, 2);
  out.AddChar(':').AddNumber(second_of_day % 60, 2).AddChar('.').AddNumber(now.tv_nsec, 9).AddChar('Z');
}

// One record in one write(), into a file rotated first if the record would take it past the maximum size.
void WriteRecord(const Stream& stream, const char* text, size_t length, bool full) {
  char head[64];
  Text start{head, sizeof head};
  FormatTime(start);
  start.AddChar(' ').Add(stream.name).AddChar(' ').AddChar(full ? 'F' : 'P').AddChar(' ');
  size_t n = start.length;
  size_t record = n + length + 1;
  if (log_file.fd < 0) {
    OpenLog();
  } else if (log_file.size > 0 && log_file.size + record > log_file.max_size) {
    Rotate();
  }
  if (log_file.fd < 0) return;
  char newline = '\n';
  struct iovec parts[3] = {{head, n}, {const_cast<char*>(text), length}, {&newline, 1}};
  long written;
  while ((written = sys::Writev(log_file.fd, parts, 3)) == -EINTR) {
  }
  if (written >= 0 && static_cast<size_t>(written) == record) {
    log_file.size += record;
    return;
  }
  // A full file system cut the record short: cut it off whole (which needs no space), so no reader sees part of
  // it and the next record starts a line of its own. Should that fail too, the part stays, and counts.
  if (written > 0 && sys::Truncate(log_file.fd, static_cast<long>(log_file.size)) < 0) {
    log_file.size += static_cast<size_t>(written);
  }
}

// Appends what was read to the current line and logs every line it completes. Returns false at EOF or error.
bool Drain(Stream& stream) {
  char buffer[kLineMax];
  long got = sys::Read(stream.fd, buffer, sizeof buffer);
  if (got == -EINTR) return true;
  if (got <= 0) {
    if (stream.length > 0) WriteRecord(stream, stream.line, stream.length, false);
    stream.length = 0;
    sys::Close(stream.fd);
    stream.fd = -1;
    return false;
  }
  for (long i = 0; i < got; i++) {
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

// The descriptor minictr's child sends with SendFd (fd_passing.h), close-on-exec; -1 when nothing came.
int ReceiveFd(int socket) {
  constexpr int kScmRights = 1;
  constexpr int kMsgCmsgCloexec = 0x40000000;
  char byte;
  struct iovec data = {&byte, 1};
  // The control header, then the descriptor, aligned as CMSG_SPACE(sizeof(int)) is.
  union {
    sys::ControlHeader header;
    char space[sizeof(sys::ControlHeader) + sizeof(long)];
  } control = {};
  sys::MessageHeader message = {nullptr, 0, &data, 1, &control, sizeof control, 0};
  long got;
  while ((got = sys::Recvmsg(socket, &message, kMsgCmsgCloexec)) == -EINTR) {
  }
  if (got != 1 || message.control_length < sizeof control.header + sizeof(int) ||
      control.header.level != SOL_SOCKET || control.header.type != kScmRights) {
    return -1;
  }
  int fd;
  memcpy(&fd, control.space + sizeof control.header, sizeof fd);
  return fd;
}

void WriteExitFile(const char* path, const char* reserve, const siginfo_t& info) {
  char buffer[160];
  Text text{buffer, sizeof buffer};
  bool exited = info.si_code == CLD_EXITED;
  text.Add(exited ? "{\"exitCode\":" : "{\"exitCode\":null,\"signal\":");
  text.AddNumber(static_cast<unsigned>(info.si_status));
  text.Add(exited ? ",\"signal\":null,\"finishedAt\":\"" : ",\"finishedAt\":\"");
  FormatTime(text);
  text.Add("\"}\n");
  // Written over the reserve's first bytes and cut there: its blocks are already allocated.
  int fd = sys::Open(reserve, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return;
  long length = static_cast<long>(text.length);
  bool ok = sys::Pwrite(fd, buffer, text.length, 0) == length && sys::Truncate(fd, length) == 0;
  sys::Close(fd);
  if (ok) sys::Rename(reserve, path);
}

// The stdout and stderr pipes, and with -t the terminal's controller once it arrives. Zero-initialized, so that
// the line buffers take no room in the file and no memory until used.
Stream streams[3];

}  // namespace

int main(int argc, char** argv, char** envp) {
  if (argc >= 8) log_file.path = argv[3];
  if (argc < 8 || !Equal(argv[6], "--") || !ParseNumber(argv[4], &log_file.max_size) || log_file.max_size == 0 ||
      !ParseNumber(argv[5], &log_file.max_file) || log_file.max_file < 1) {
    static const char usage[] = "usage: minictr-monitor EXIT EXIT-RESERVE LOG MAX-SIZE MAX-FILE -- CLEANUP...\n";
    sys::Write(2, usage, sizeof usage - 1);
    return 2;
  }
  const char* exit_path = argv[1];
  const char* exit_reserve = argv[2];
  const int pidfd = kPidFd;
  streams[0].fd = kStdoutFd;
  streams[0].name = "stdout";
  streams[1].fd = kStderrFd;
  streams[1].name = "stderr";
  streams[2].fd = -1;
  streams[2].name = "stdout";

  // 1. Nothing of ours left open for the teardown command; a hangup of whatever terminal started minictr is not
  //    a reason to stop.
  for (int fd = kStdoutFd; fd <= kStdinFd; fd++) sys::Fcntl(fd, F_SETFD, FD_CLOEXEC);  // fds 8 and 9 may not be open
  sys::IgnoreSignal(SIGHUP);
  log_file.size = SizeOf(kLogFd);
  bool awaiting_console = sys::Fcntl(kConsoleFd, F_GETFD) >= 0;

  // 2. Until PID 1 is reaped, both pipes are at EOF and the handoff is done: log output, reap, wait for minictr.
  //    After PID 1 exits the kernel kills the rest of its PID namespace, so the pipes' EOF follows promptly.
  siginfo_t info = {};
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
    int ready = sys::Poll(fds, 6);
    if (ready == -EINTR) continue;
    if (ready < 0) return 1;
    for (int i = 0; i < 3; i++) {
      if (fds[i].revents != 0) Drain(streams[i]);
    }
    if (fds[5].revents != 0) {
      streams[2].fd = ReceiveFd(kConsoleFd);  // -1: the child died before sending it
      awaiting_console = false;
      sys::Close(kConsoleFd);
    }
    if (fds[3].revents != 0) {
      while (sys::WaitPidfd(pidfd, &info) == -EINTR) {
      }
      reaped = true;
    }
    if (fds[4].revents != 0) {
      char byte;
      long got = sys::Read(kHandoffFd, &byte, 1);
      if (got == 1) committed = true;
      if (got == 0 || (got < 0 && got != -EINTR)) {
        handed_off = true;
        if (!committed && !reaped) sys::PidfdSendSignal(pidfd, SIGKILL);
      }
    }
  }
  WriteExitFile(exit_path, exit_reserve, info);

  // 3. Become the teardown: `minictr cleanup` keeps this pid and start time, so it is still the container's
  //    recorded owner while it undoes the journal (and gc knows, should it die, that nobody is).
  if (log_file.fd >= 0) sys::Close(log_file.fd);
  sys::Execve(argv[7], argv + 7, envp);
  return 127;
}
