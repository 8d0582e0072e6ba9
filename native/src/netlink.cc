// The netlink socket surface (netlink.h): socket, send, receive. Errors are ErrnoErrors (errors.h) naming the call.
#include "netlink.h"

#include <linux/netlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "errors.h"
#include "fd.h"

namespace minictr {

namespace {

bool ArgsAre(const Napi::CallbackInfo& info, size_t count) {
  return info.Length() == count && info[0].IsNumber();
}

}  // namespace

Napi::Value NetlinkSocket(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!ArgsAre(info, 1)) return ThrowTypeError(env, "netlinkSocket(protocol: number)");
  int protocol = info[0].As<Napi::Number>().Int32Value();
  Fd fd(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol));
  if (!fd.valid()) return ThrowErrno(env, "socket(AF_NETLINK)", errno);
  int on = 1;
  // Both options are best effort: a kernel without them still acknowledges, only less verbosely.
  setsockopt(fd.get(), SOL_NETLINK, NETLINK_EXT_ACK, &on, sizeof on);
  setsockopt(fd.get(), SOL_NETLINK, NETLINK_CAP_ACK, &on, sizeof on);
  struct sockaddr_nl local {};
  local.nl_family = AF_NETLINK;
  if (bind(fd.get(), reinterpret_cast<struct sockaddr*>(&local), sizeof local) < 0) {
    return ThrowErrno(env, "bind(AF_NETLINK)", errno);
  }
  return Napi::Number::New(env, fd.release());
}

Napi::Value NetlinkSend(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!ArgsAre(info, 2) || !info[1].IsTypedArray() ||
      info[1].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    return ThrowTypeError(env, "netlinkSend(fd: number, messages: Uint8Array)");
  }
  int fd = info[0].As<Napi::Number>().Int32Value();
  Napi::Uint8Array messages = info[1].As<Napi::Uint8Array>();
  struct sockaddr_nl kernel {};
  kernel.nl_family = AF_NETLINK;
  struct iovec iov = {messages.Data(), messages.ByteLength()};
  struct msghdr message {};
  message.msg_name = &kernel;
  message.msg_namelen = sizeof kernel;
  message.msg_iov = &iov;
  message.msg_iovlen = 1;
  ssize_t sent;
  do {
    sent = sendmsg(fd, &message, 0);
  } while (sent < 0 && errno == EINTR);
  if (sent < 0) return ThrowErrno(env, "sendmsg(AF_NETLINK)", errno);
  return env.Undefined();
}

Napi::Value NetlinkReceive(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!ArgsAre(info, 1)) return ThrowTypeError(env, "netlinkReceive(fd: number)");
  int fd = info[0].As<Napi::Number>().Int32Value();
  // The datagram's size first (MSG_PEEK | MSG_TRUNC), so that a dump's large parts are never cut short.
  ssize_t size;
  do {
    size = recv(fd, nullptr, 0, MSG_PEEK | MSG_TRUNC);
  } while (size < 0 && errno == EINTR);
  if (size < 0) return ThrowErrno(env, "recv(AF_NETLINK)", errno);
  Napi::Buffer<uint8_t> buffer = Napi::Buffer<uint8_t>::New(env, static_cast<size_t>(size));
  ssize_t got;
  do {
    got = recv(fd, buffer.Data(), buffer.Length(), 0);
  } while (got < 0 && errno == EINTR);
  if (got < 0) return ThrowErrno(env, "recv(AF_NETLINK)", errno);
  return buffer;
}

Napi::Value ErrnoDescription(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!ArgsAre(info, 1)) return ThrowTypeError(env, "errnoDescription(errno: number)");
  int error = info[0].As<Napi::Number>().Int32Value();
  const char* code = strerrorname_np(error);
  Napi::Object out = Napi::Object::New(env);
  out.Set("code", code != nullptr ? code : "EUNKNOWN");
  out.Set("message", strerror(error));
  return out;
}

}  // namespace minictr
