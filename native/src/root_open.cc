// openInRoot for `minictr cp` (root_open.h): the addon's face of mounts.cc's confined open.
#include "root_open.h"

#include <fcntl.h>

#include <cerrno>
#include <string>

#include "errors.h"
#include "mounts.h"

namespace minictr {

Napi::Value OpenInRootFunction(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 2 || !info[0].IsNumber() || !info[1].IsString()) {
    return ThrowTypeError(env, "openInRoot(rootFd: number, path: string)");
  }
  int root = info[0].As<Napi::Number>().Int32Value();
  std::string path = info[1].As<Napi::String>().Utf8Value();
  if (root < 0 || path.find('\0') != std::string::npos) {
    return ThrowTypeError(env, "openInRoot: a descriptor and a path without NUL bytes");
  }
  int fd = OpenBeneathRoot(root, path.empty() ? "/" : path.c_str(), O_PATH);
  if (fd < 0) {
    Napi::Error failure = ErrnoError(env, "openat2 " + path, errno);
    failure.Set("path", Napi::String::New(env, path));
    failure.ThrowAsJavaScriptException();
    return env.Undefined();
  }
  return Napi::Number::New(env, fd);
}

}  // namespace minictr
