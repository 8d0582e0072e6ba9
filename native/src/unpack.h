// The writes of a layer unpack (src/image/unpack.ts), each confined to the layer's root directory.
#pragma once

#include <napi.h>

namespace minictr {

// unpackCreate(rootFd, entry) → number: creates one tar entry under the root and returns a descriptor for a file
// (write-only, for its content) or a directory (for its metadata), -1 for the other kinds, whose owner, mode and
// times are set here.
Napi::Value UnpackCreate(const Napi::CallbackInfo& info);

// unpackFinish(fd, path, meta) → undefined: owner, mode, xattrs and times (each optional) of a created file or
// directory; path names it in errors.
Napi::Value UnpackFinish(const Napi::CallbackInfo& info);

// unpackTimes(rootFd, {parent, name, times}) → undefined: a directory's times, once its content is written.
Napi::Value UnpackTimes(const Napi::CallbackInfo& info);

// isOpaqueDirectory(path) → boolean: whether the directory carries overlayfs's opaque mark (trusted.overlay.opaque
// = "y"), which hides the same directory in the layers below it (src/container/layered-root.ts).
Napi::Value IsOpaqueDirectory(const Napi::CallbackInfo& info);

}  // namespace minictr
