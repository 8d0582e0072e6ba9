// flock(2) on a directory. Node has no file locks, and minictr needs one place where two processes must take turns:
// removing a registry file only if a given owner still holds it (see removeIfOwned in src/sys/exclusive-file.ts).
// The lock is held for microseconds, so blocking the event loop while waiting for it is cheaper than any
// asynchronous scheme; and the kernel drops it when its holder dies, so a crash can never leave it taken.
#include "lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "errors.h"
#include "fd.h"

namespace minictr {

Napi::Value LockDirectory(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 1 || !info[0].IsString()) return ThrowTypeError(env, "lockDirectory(path: string)");
  std::string path = info[0].As<Napi::String>().Utf8Value();
  Fd fd(open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  int result = fd.valid() ? 0 : -1;
  if (fd.valid()) {
    do {
      result = flock(fd.get(), LOCK_EX);
    } while (result < 0 && errno == EINTR);
  }
  if (result < 0) return ThrowErrno(env, "lock " + path, errno);
  return Napi::Number::New(env, fd.release());
}

}  // namespace minictr
