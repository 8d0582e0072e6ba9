// Streaming zstd decompression for zstd-compressed image layers (Node 20's zlib has no zstd).
#pragma once

#include <napi.h>

namespace minictr {

// zstdStream() → external: a decompression context, freed when garbage collected.
Napi::Value ZstdStream(const Napi::CallbackInfo& info);

// zstdDecompress(stream, input) → {output, consumed, frameEnded}: decompresses from the start of input until at most
// 1 MiB of output is produced (so a small input cannot make a huge buffer); the caller passes the rest again.
Napi::Value ZstdDecompress(const Napi::CallbackInfo& info);

}  // namespace minictr
