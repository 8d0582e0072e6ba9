// A path inside a directory that someone else controls (a running container's root), opened without ever leaving
// it: for `minictr cp` (src/container/contained-copy.ts).
#pragma once

#include <napi.h>

namespace minictr {

// openInRoot(rootFd, path) → number: an O_PATH, close-on-exec descriptor of `path` resolved inside the directory
// rootFd with RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS (mounts.cc's OpenBeneathRoot): `..` stops at that directory
// and symlinks, a final one included, are followed as if it were "/". Throws an Error with errno and path.
Napi::Value OpenInRootFunction(const Napi::CallbackInfo& info);

}  // namespace minictr
