// Exit watcher: a pidfd becomes readable when its process exits, so a uv_poll on it lets the event loop learn of the
// exit with no thread and no polling. The watcher keeps the loop alive until then, as a child_process would.
#include "wait.h"

#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include <cerrno>
#include <memory>

namespace minictr {

namespace {

struct ExitWatch {
  uv_poll_t poll;
  int pidfd;
  napi_env env;
  Napi::FunctionReference callback;
};

// The pidfd is closed only here, after libuv has forgotten it: closed earlier, its number could be reused by the
// time uv_close() removes it from epoll.
void OnClosed(uv_handle_t* handle) {
  auto* watch = static_cast<ExitWatch*>(handle->data);
  if (watch->pidfd >= 0) close(watch->pidfd);
  delete watch;
}

void OnReadable(uv_poll_t* handle, int, int) {
  auto* watch = static_cast<ExitWatch*>(handle->data);
  siginfo_t info{};
  int result;
  do {
    result = waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(watch->pidfd), &info, WEXITED);
  } while (result < 0 && errno == EINTR);
  int error = result < 0 ? errno : 0;

  uv_poll_stop(handle);

  Napi::Env env(watch->env);
  Napi::HandleScope scope(env);
  Napi::Object status = Napi::Object::New(env);
  status.Set("exitCode", env.Null());
  status.Set("signal", env.Null());
  if (error != 0) {
    status.Set("errno", error);
  } else if (info.si_code == CLD_EXITED) {
    status.Set("exitCode", info.si_status);
  } else {
    status.Set("signal", info.si_status);
  }
  watch->callback.MakeCallback(env.Global(), {status});
  uv_close(reinterpret_cast<uv_handle_t*>(handle), OnClosed);
}

}  // namespace

Napi::Value WatchExit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 2 || !info[0].IsNumber() || !info[1].IsFunction()) {
    Napi::TypeError::New(env, "watchExit(pidfd: number, callback: function)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) {
    Napi::Error::New(env, "watchExit: no event loop").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  auto watch = std::make_unique<ExitWatch>();
  watch->pidfd = info[0].As<Napi::Number>().Int32Value();
  watch->env = env;
  watch->callback = Napi::Persistent(info[1].As<Napi::Function>());
  watch->poll.data = watch.get();
  int error = uv_poll_init(loop, &watch->poll, watch->pidfd);
  if (error != 0) close(watch->pidfd);
  if (error == 0) {
    ExitWatch* owned = watch.release();  // from here on freed by OnClosed
    error = uv_poll_start(&owned->poll, UV_READABLE, OnReadable);
    if (error != 0) uv_close(reinterpret_cast<uv_handle_t*>(&owned->poll), OnClosed);
  }
  if (error != 0) {
    Napi::Error::New(env, std::string("watchExit: ") + uv_strerror(error)).ThrowAsJavaScriptException();
  }
  return env.Undefined();
}

}  // namespace minictr
