// A netlink socket for minictr's TypeScript, nothing more: every message is built and parsed in src/netlink/, so
// this file knows no protocol. The calls are synchronous: the kernel handles an rtnetlink request inside sendmsg and
// queues its replies before returning, so a receive after a send that asked for an acknowledgement never waits.
#pragma once

#include <napi.h>

namespace minictr {

// netlinkSocket(protocol) → fd: socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol) bound to a kernel-chosen port,
// with extended acknowledgements (an error carries the kernel's message) that do not echo the request.
Napi::Value NetlinkSocket(const Napi::CallbackInfo& info);
// netlinkSend(fd, messages) → undefined: one sendmsg to the kernel of one or more whole messages.
Napi::Value NetlinkSend(const Napi::CallbackInfo& info);
// netlinkReceive(fd) → Buffer: the next datagram, whole (blocks until there is one).
Napi::Value NetlinkReceive(const Napi::CallbackInfo& info);
// errnoDescription(errno) → {code, message}: strerrorname_np and strerror, for errors that arrive as data.
Napi::Value ErrnoDescription(const Napi::CallbackInfo& info);

}  // namespace minictr
