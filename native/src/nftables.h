// nftables without the nft program: Debian's libnftables (the library nft itself is built on) reads the same
// ruleset text in this process, and one NFT_MSG_GETGEN tells whether the ruleset changed since minictr last looked.
#pragma once

#include <napi.h>

namespace minictr {

// nftRun(script, json, terse) → {ok, output, error}: nft_run_cmd_from_buffer on one context kept for the process,
// its output and error messages captured, as `nft [-j] [-t] -f -` would print them.
Napi::Value NftRun(const Napi::CallbackInfo& info);
// nftLoad() → Promise<void>: opens libnftables and creates nftRun's context on libuv's thread pool, ahead of the
// first nftRun (which waits for it); rejects with the reason the library or the context could not be had.
Napi::Value NftLoad(const Napi::CallbackInfo& info);
// nftGeneration() → {netns, generation}: the ruleset's generation id (bumped by every commit) and the cookie of the
// network namespace it belongs to (never reused while the host runs). Throws an Error with errno.
Napi::Value NftGeneration(const Napi::CallbackInfo& info);

}  // namespace minictr
