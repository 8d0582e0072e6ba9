// The pseudo-terminal functions of the addon (see pty.cc).
#pragma once

#include <napi.h>

namespace minictr {

Napi::Value ReceiveTerminal(const Napi::CallbackInfo& info);
Napi::Value ResizePty(const Napi::CallbackInfo& info);

}  // namespace minictr
