// flock(2) on a directory. Node has no file locks, and minictr needs one place where two processes must take turns:
// removing a registry file only if a given owner still holds it (see removeIfOwned in src/sys/exclusive-file.ts).
// The lock is held for microseconds, so blocking the event loop while waiting for it is cheaper than any
// asynchronous scheme; and the kernel drops it when its holder dies, so a crash can never leave it taken.
#include "lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace minictr {

Napi::Value LockDirectory(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 1 || !info[0].IsString()) {
    Napi::TypeError::New(env, "lockDirectory(path: string)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::string path = info[0].As<Napi::String>().Utf8Value();
  int fd = open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int result = fd < 0 ? -1 : 0;
  if (fd >= 0) {
    do {
      result = flock(fd, LOCK_EX);
    } while (result < 0 && errno == EINTR);
  }
  if (result < 0) {
    int saved = errno;
    if (fd >= 0) close(fd);
    Napi::Error::New(env, "lock " + path + ": " + strerror(saved)).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  return Napi::Number::New(env, fd);
}

}  // namespace minictr
