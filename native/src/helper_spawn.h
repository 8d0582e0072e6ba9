// Starting a long-lived helper program (minictr-proxy) from Node without fork().
#pragma once

#include <napi.h>

namespace minictr {

// spawnHelper(path, argv) → {pid, fd}: the program runs in a session of its own, with /dev/null as stdin, stdout
// and stderr, an empty environment, default signal dispositions, one end of a new socket pair as fd 3 and no other
// descriptor; `fd` is the other end (close-on-exec). Its parent is this process, which does not reap it:
// killAndWait watches its pidfd, and a zombie counts as gone.
Napi::Value SpawnHelper(const Napi::CallbackInfo& info);

}  // namespace minictr
