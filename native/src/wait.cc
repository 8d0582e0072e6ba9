// Exit watchers: a pidfd becomes readable when its process exits, so a uv_poll on it lets the event loop learn of the
// exit with no thread and no polling. watchExit, for minictr's own children, reaps the child and keeps the loop
// alive until then, as a child_process would. watchGone, for a process minictr only waits for (a container's owner,
// a PID 1 it killed), reaps nothing and keeps nothing alive: the waiter holds the loop with its own deadline.
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
  bool reap;
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
  uv_poll_stop(handle);
  Napi::Env env(watch->env);
  Napi::HandleScope scope(env);
  if (!watch->reap) {
    watch->callback.MakeCallback(env.Global(), {});
    uv_close(reinterpret_cast<uv_handle_t*>(handle), OnClosed);
    return;
  }

  siginfo_t info{};
  int result;
  do {
    result = waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(watch->pidfd), &info, WEXITED);
  } while (result < 0 && errno == EINTR);
  int error = result < 0 ? errno : 0;

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

// Starts polling info[0] (a pidfd, owned from here on) and calls info[1] back on exit.
Napi::Value Watch(const Napi::CallbackInfo& info, bool reap, const char* usage) {
  Napi::Env env = info.Env();
  if (info.Length() != 2 || !info[0].IsNumber() || !info[1].IsFunction()) {
    Napi::TypeError::New(env, usage).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) {
    Napi::Error::New(env, "watch: no event loop").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  auto watch = std::make_unique<ExitWatch>();
  watch->pidfd = info[0].As<Napi::Number>().Int32Value();
  watch->reap = reap;
  watch->env = env;
  watch->callback = Napi::Persistent(info[1].As<Napi::Function>());
  watch->poll.data = watch.get();
  int error = uv_poll_init(loop, &watch->poll, watch->pidfd);
  if (error != 0) close(watch->pidfd);
  if (error == 0) {
    ExitWatch* owned = watch.release();  // from here on freed by OnClosed
    error = uv_poll_start(&owned->poll, UV_READABLE, OnReadable);
    if (error != 0) uv_close(reinterpret_cast<uv_handle_t*>(&owned->poll), OnClosed);
    if (error == 0 && !reap) uv_unref(reinterpret_cast<uv_handle_t*>(&owned->poll));
  }
  if (error != 0) {
    Napi::Error::New(env, std::string("watch: ") + uv_strerror(error)).ThrowAsJavaScriptException();
  }
  return env.Undefined();
}

}  // namespace

Napi::Value WatchExit(const Napi::CallbackInfo& info) {
  return Watch(info, true, "watchExit(pidfd: number, callback: function)");
}

Napi::Value WatchGone(const Napi::CallbackInfo& info) {
  return Watch(info, false, "watchGone(pidfd: number, callback: function)");
}

}  // namespace minictr
