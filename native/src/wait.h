// Watching a container's exit without blocking the event loop.
#pragma once

#include <napi.h>

namespace minictr {

// Polls `pidfd` on Node's libuv loop; when the process exits, reaps it with waitid(P_PIDFD) and calls
// callback({exitCode, signal}). Takes ownership of pidfd.
Napi::Value WatchExit(const Napi::CallbackInfo& info);

// Polls `pidfd` (of a process that is not minictr's child) and calls callback(null) once it has exited, or
// callback(error) if the poll fails; reaps nothing. The poll does not keep the event loop alive. Takes ownership of
// pidfd. Returns cancel(), which stops the watch (no callback then); calling it late is harmless.
Napi::Value WatchGone(const Napi::CallbackInfo& info);

}  // namespace minictr
