// openInRoot for `minictr cp` (root_open.h): the addon's face of mounts.cc's confined open.
#include "root_open.h"

#include <fcntl.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "mounts.h"

namespace minictr {

Napi::Value OpenInRootFunction(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 2 || !info[0].IsNumber() || !info[1].IsString()) {
    Napi::TypeError::New(env, "openInRoot(rootFd: number, path: string)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int root = info[0].As<Napi::Number>().Int32Value();
  std::string path = info[1].As<Napi::String>().Utf8Value();
  if (root < 0 || path.find('\0') != std::string::npos) {
    Napi::TypeError::New(env, "openInRoot: a descriptor and a path without NUL bytes").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int fd = OpenBeneathRoot(root, path.empty() ? "/" : path.c_str(), O_PATH);
  if (fd < 0) {
    int error = errno;
    Napi::Error failure = Napi::Error::New(env, std::string("openat2 ") + path + ": " + strerror(error));
    failure.Set("errno", Napi::Number::New(env, error));
    failure.Set("path", Napi::String::New(env, path));
    failure.ThrowAsJavaScriptException();
    return env.Undefined();
  }
  return Napi::Number::New(env, fd);
}

}  // namespace minictr
