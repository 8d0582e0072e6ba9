// An exclusive lock on a directory, for the few steps of minictr that must not interleave across processes.
#pragma once

#include <napi.h>

namespace minictr {

// lockDirectory(path) → number: a descriptor of the directory holding flock(LOCK_EX) on it, once no other process
// holds it (blocking). Closing the descriptor releases the lock; so does the process's death.
Napi::Value LockDirectory(const Napi::CallbackInfo& info);

}  // namespace minictr
