// Signalling and watching a process that is not minictr's child without ever hitting another one: a pid can be
// reused as soon as its process is reaped by someone else. A pidfd refers to one process for good. If the process
// holding the pid, read after the pidfd was opened, has the recorded start time, it started before the open and
// so already held the pid then: the pidfd refers to it, and pidfd_send_signal() (or a poll of the pidfd, see
// wait.cc) cannot reach any other.
#include "proc.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include "errors.h"
#include "fd.h"

namespace minictr {

uint64_t StartTimeOf(int pid) {
  std::string path = "/proc/" + std::to_string(pid) + "/stat";
  Fd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return 0;
  char text[1024];
  ssize_t n = read(fd.get(), text, sizeof text - 1);
  if (n <= 0) return 0;
  text[n] = '\0';
  const char* p = strrchr(text, ')');  // the command name may contain anything; fields resume after the last ')'
  for (int field = 2; p != nullptr && field < 22; field++) p = strchr(p + 1, ' ');
  return p == nullptr ? 0 : strtoull(p + 1, nullptr, 10);
}

// A pidfd on the very process (pid, start time), or -1: errno ESRCH when that process is gone, anything else on
// failure. The start time is read after the open, for the reason given at the top of this file.
int OpenRecorded(int pid, uint64_t start_time) {
  Fd pidfd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
  if (!pidfd.valid()) {
    // EINVAL: the number now names a thread of another process (or pid <= 0); ENOENT: the process exited as it was
    // opened (Linux 6.x pidfs, seen with rm -f of hundreds). Either way the recorded one is gone.
    if (errno == EINVAL || errno == ENOENT) errno = ESRCH;
    return -1;
  }
  if (StartTimeOf(pid) != start_time) {
    errno = ESRCH;
    return -1;
  }
  return pidfd.release();
}

namespace {

// Reads (pid, startTime) from the first two arguments; false after throwing a TypeError.
bool RecordedArguments(const Napi::CallbackInfo& info, size_t count, const char* usage, int* pid, uint64_t* start_time) {
  bool valid = info.Length() == count;
  for (size_t i = 0; valid && i < count; i++) valid = info[i].IsNumber();
  if (!valid) {
    ThrowTypeError(info.Env(), usage);
    return false;
  }
  *pid = info[0].As<Napi::Number>().Int32Value();
  *start_time = static_cast<uint64_t>(info[1].As<Napi::Number>().Int64Value());
  return true;
}

}  // namespace

Napi::Value SignalProcess(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int pid;
  uint64_t start_time;
  if (!RecordedArguments(info, 3, "signalProcess(pid: number, startTime: number, signal: number)", &pid, &start_time)) {
    return env.Undefined();
  }
  int signal = info[2].As<Napi::Number>().Int32Value();
  Fd pidfd(OpenRecorded(pid, start_time));
  if (!pidfd.valid()) return errno == ESRCH ? Napi::Boolean::New(env, false) : ThrowErrno(env, "pidfd_open", errno);
  if (syscall(SYS_pidfd_send_signal, pidfd.get(), signal, nullptr, 0) == 0) return Napi::Boolean::New(env, true);
  return errno == ESRCH ? Napi::Boolean::New(env, false) : ThrowErrno(env, "pidfd_send_signal", errno);
}

Napi::Value OpenProcess(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int pid;
  uint64_t start_time;
  if (!RecordedArguments(info, 2, "openProcess(pid: number, startTime: number)", &pid, &start_time)) return env.Undefined();
  int pidfd = OpenRecorded(pid, start_time);
  if (pidfd >= 0) return Napi::Number::New(env, pidfd);
  return errno == ESRCH ? env.Null() : ThrowErrno(env, "pidfd_open", errno);
}

}  // namespace minictr
