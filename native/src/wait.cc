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

#include "errors.h"
#include "fd.h"

namespace minictr {

namespace {

struct ExitWatch {
  uv_poll_t poll;
  uv_timer_t retry;  // watchExit: the reap, again, while a tracer holds the exited process (see OnReadable)
  int open_handles;  // freed once both are closed
  int pidfd;
  bool reap;
  napi_env env;
  Napi::FunctionReference callback;
  // Shared with watchGone's cancel function, which may outlive the watch: null once the watch is freed.
  std::shared_ptr<ExitWatch*> self;
};

// The pidfd is closed only here, after libuv has forgotten it: closed earlier, its number could be reused by the
// time uv_close() removes it from epoll.
void OnClosed(uv_handle_t* handle) {
  auto* watch = static_cast<ExitWatch*>(handle->data);
  if (--watch->open_handles > 0) return;
  if (watch->pidfd >= 0) close(watch->pidfd);
  if (watch->self) *watch->self = nullptr;
  delete watch;
}

// A callback that throws leaves its exception pending on the environment, where the next addon call would trip over
// it: hand it to Node as an uncaught exception instead, as a throw in any other event callback would be.
void ReportThrown(Napi::Env env) {
  if (env.IsExceptionPending()) napi_fatal_exception(env, env.GetAndClearPendingException().Value());
}

// Closes the watch, which stops its poll, unless that is under way already (the callback may have cancelled it).
void Finish(ExitWatch* watch) {
  for (auto* handle : {reinterpret_cast<uv_handle_t*>(&watch->poll), reinterpret_cast<uv_handle_t*>(&watch->retry)}) {
    if (!uv_is_closing(handle)) uv_close(handle, OnClosed);
  }
}

void OnReadable(uv_poll_t* handle, int status, int);

void OnRetry(uv_timer_t* timer) {
  auto* watch = static_cast<ExitWatch*>(timer->data);
  OnReadable(&watch->poll, 0, 0);
}

void OnReadable(uv_poll_t* handle, int status, int) {
  auto* watch = static_cast<ExitWatch*>(handle->data);
  uv_poll_stop(handle);
  Napi::Env env(watch->env);
  Napi::HandleScope scope(env);
  if (!watch->reap) {
    // A failed poll says nothing about the process: the waiter gets an error, never a false "gone".
    napi_value failure = env.Null();
    if (status < 0) failure = ErrnoError(env, "poll pidfd", -status).Value();
    watch->callback.MakeCallback(env.Global(), {failure});
    ReportThrown(env);
    Finish(watch);
    return;
  }

  siginfo_t info{};
  int result = -1;
  int error = status < 0 ? -status : 0;
  if (error == 0) {
    do {
      result = waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(watch->pidfd), &info, WEXITED);
    } while (result < 0 && errno == EINTR);
    error = result < 0 ? errno : 0;
  }
  if (error == EAGAIN) {
    // The process has exited (the pidfd is readable) but is not the parent's to reap yet: a tracer in the container
    // (CAP_SYS_PTRACE) is told first and holds it until it waits for it. libuv made the pidfd non-blocking, and it
    // stays readable, so the reap is tried again a little later instead of polled.
    uv_timer_start(&watch->retry, OnRetry, 10, 0);
    return;
  }

  Napi::Object exit_status = Napi::Object::New(env);
  exit_status.Set("exitCode", env.Null());
  exit_status.Set("signal", env.Null());
  if (error != 0) {
    exit_status.Set("errno", error);
  } else if (info.si_code == CLD_EXITED) {
    exit_status.Set("exitCode", info.si_status);
  } else {
    exit_status.Set("signal", info.si_status);
  }
  watch->callback.MakeCallback(env.Global(), {exit_status});
  ReportThrown(env);
  Finish(watch);
}

// Starts polling info[0] (a pidfd, owned from here on: closed on every path) and calls info[1] back on exit.
// Returns the watch, or null after throwing.
ExitWatch* Watch(const Napi::CallbackInfo& info, bool reap, const char* usage) {
  Napi::Env env = info.Env();
  Fd pidfd(info.Length() >= 1 && info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : -1);
  if (info.Length() != 2 || !pidfd.valid() || !info[1].IsFunction()) {
    ThrowTypeError(env, usage);
    return nullptr;
  }
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) {
    Napi::Error::New(env, "watch: no event loop").ThrowAsJavaScriptException();
    return nullptr;
  }
  auto watch = std::make_unique<ExitWatch>();
  watch->reap = reap;
  watch->env = env;
  watch->callback = Napi::Persistent(info[1].As<Napi::Function>());
  watch->poll.data = watch.get();
  int error = uv_poll_init(loop, &watch->poll, pidfd.get());
  if (error != 0) {
    ThrowErrno(env, "watch", -error);
    return nullptr;
  }
  uv_timer_init(loop, &watch->retry);
  watch->retry.data = watch.get();
  watch->open_handles = 2;
  watch->pidfd = pidfd.release();
  ExitWatch* owned = watch.release();  // from here on freed, with its pidfd, by OnClosed
  error = uv_poll_start(&owned->poll, UV_READABLE, OnReadable);
  if (error != 0) {
    Finish(owned);
    ThrowErrno(env, "watch", -error);
    return nullptr;
  }
  return owned;
}

}  // namespace

Napi::Value WatchExit(const Napi::CallbackInfo& info) {
  Watch(info, true, "watchExit(pidfd: number, callback: function)");
  return info.Env().Undefined();
}

Napi::Value WatchGone(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ExitWatch* watch = Watch(info, false, "watchGone(pidfd: number, callback: function)");
  if (watch == nullptr) return env.Undefined();
  uv_unref(reinterpret_cast<uv_handle_t*>(&watch->poll));  // its retry timer is never started
  watch->self = std::make_shared<ExitWatch*>(watch);
  std::shared_ptr<ExitWatch*> self = watch->self;
  return Napi::Function::New(env, [self](const Napi::CallbackInfo& call) {
    if (*self != nullptr) Finish(*self);
    return call.Env().Undefined();
  }, "cancel");
}

}  // namespace minictr
