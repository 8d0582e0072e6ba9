// Signalling a process that is not minictr's child without ever hitting another one: a pid can be reused as soon as
// its process is reaped by someone else. A pidfd pins the process; if the start time read after opening it still
// matches the recorded one, the pidfd refers to that very process, and pidfd_send_signal() cannot reach any other.
#include "proc.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

namespace minictr {

uint64_t StartTimeOf(int pid) {
  std::string path = "/proc/" + std::to_string(pid) + "/stat";
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char text[1024];
  ssize_t n = read(fd, text, sizeof text - 1);
  close(fd);
  if (n <= 0) return 0;
  text[n] = '\0';
  const char* p = strrchr(text, ')');  // the command name may contain anything; fields resume after the last ')'
  for (int field = 2; p != nullptr && field < 22; field++) p = strchr(p + 1, ' ');
  return p == nullptr ? 0 : strtoull(p + 1, nullptr, 10);
}

Napi::Value SignalProcess(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 3 || !info[0].IsNumber() || !info[1].IsNumber() || !info[2].IsNumber()) {
    Napi::TypeError::New(env, "signalProcess(pid: number, startTime: number, signal: number)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int pid = info[0].As<Napi::Number>().Int32Value();
  uint64_t start_time = static_cast<uint64_t>(info[1].As<Napi::Number>().Int64Value());
  int signal = info[2].As<Napi::Number>().Int32Value();
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) {
    // ESRCH: no such pid; EINVAL: the number now names a thread of another process (or pid <= 0). Either way the
    // recorded process is gone.
    if (errno == ESRCH || errno == EINVAL) return Napi::Boolean::New(env, false);
    Napi::Error::New(env, std::string("pidfd_open: ") + strerror(errno)).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  bool same = StartTimeOf(pid) == start_time;
  int result = same ? static_cast<int>(syscall(SYS_pidfd_send_signal, pidfd, signal, nullptr, 0)) : 0;
  int saved = errno;
  close(pidfd);
  if (result < 0 && saved != ESRCH) {
    Napi::Error::New(env, std::string("pidfd_send_signal: ") + strerror(saved)).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  return Napi::Boolean::New(env, same && result == 0);
}

}  // namespace minictr
