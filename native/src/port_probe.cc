// The bind test of a published port (port_probe.h). It does what libuv does for a Node server or socket: TCP sets
// SO_REUSEADDR (a port whose connections wait in TIME_WAIT is free, as for any server) and listens, since a bind
// beside another SO_REUSEADDR socket succeeds and only listen() then answers EADDRINUSE; UDP only binds.
#include "port_probe.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <string>

#include "errors.h"
#include "fd.h"

namespace minictr {

Napi::Value ProbePort(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 3 || !info[0].IsString() || !info[1].IsString() || !info[2].IsNumber()) {
    return ThrowTypeError(env, "probePort(protocol: 'tcp' | 'udp', address: string, port: number)");
  }
  const bool tcp = info[0].As<Napi::String>().Utf8Value() == "tcp";
  struct sockaddr_in address {};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(info[2].As<Napi::Number>().Uint32Value()));
  if (inet_pton(AF_INET, info[1].As<Napi::String>().Utf8Value().c_str(), &address.sin_addr) != 1) {
    return ThrowTypeError(env, "probePort: the address is not IPv4 text");
  }
  Fd fd(socket(AF_INET, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return Napi::Number::New(env, errno);
  int on = 1;
  if (tcp && setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) < 0) return Napi::Number::New(env, errno);
  if (bind(fd.get(), reinterpret_cast<struct sockaddr*>(&address), sizeof address) < 0) {
    return Napi::Number::New(env, errno);
  }
  if (tcp && listen(fd.get(), 1) < 0) return Napi::Number::New(env, errno);
  return Napi::Number::New(env, 0);
}

}  // namespace minictr
