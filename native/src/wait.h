// Watching a container's exit without blocking the event loop.
#pragma once

#include <napi.h>

namespace minictr {

// Polls `pidfd` on Node's libuv loop; when the process exits, reaps it with waitid(P_PIDFD) and calls
// callback({exitCode, signal}). Takes ownership of pidfd.
Napi::Value WatchExit(const Napi::CallbackInfo& info);

// Polls `pidfd` (of a process that is not minictr's child) and calls callback() once it has exited, reaping
// nothing. The poll does not keep the event loop alive. Takes ownership of pidfd.
Napi::Value WatchGone(const Napi::CallbackInfo& info);

}  // namespace minictr
