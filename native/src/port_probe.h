// The published-port check's bind test (src/network/ports.ts): bind a host address and port for a moment, as a host
// process would, and let go. In the addon because Node's own way (node:net, node:dgram) costs 3.5 ms of loading in
// every run with -p; the system calls themselves take a few microseconds.
#pragma once

#include <napi.h>

namespace minictr {

// probePort(protocol: 'tcp' | 'udp', address: IPv4 text, port) → 0, or the errno of socket/bind/listen.
Napi::Value ProbePort(const Napi::CallbackInfo& info);

}  // namespace minictr
