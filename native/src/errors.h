// How the addon fails a JavaScript call: one TypeError for arguments of the wrong shape, one Error for a failed
// system call. The latter's message is "WHAT: strerror" and it carries `errno` and `code` (EPERM, ...), as Node's own
// system errors do; callers add what else names the object (syscall, path, a verifier log).
#pragma once

#include <napi.h>

#include <cstring>
#include <string>

namespace minictr {

inline Napi::Error ErrnoError(Napi::Env env, const std::string& what, int error) {
  Napi::Error failure = Napi::Error::New(env, what + ": " + strerror(error));
  failure.Set("errno", Napi::Number::New(env, error));
  const char* code = strerrorname_np(error);
  failure.Set("code", Napi::String::New(env, code != nullptr ? code : "EUNKNOWN"));
  return failure;
}

// Throws ErrnoError; returns undefined, for `return ThrowErrno(...)`.
inline Napi::Value ThrowErrno(Napi::Env env, const std::string& what, int error) {
  ErrnoError(env, what, error).ThrowAsJavaScriptException();
  return env.Undefined();
}

// Throws a TypeError (`usage` is the signature, or what the argument must be); returns undefined.
inline Napi::Value ThrowTypeError(Napi::Env env, const std::string& usage) {
  Napi::TypeError::New(env, usage).ThrowAsJavaScriptException();
  return env.Undefined();
}

}  // namespace minictr
