// The pseudo-terminal of `-t`, minictr's side. The container's child opens it in the container's own devpts
// instance (child.cc, OpenTerminal) and sends the controller end over a socket before it execs; minictr receives it
// here and relays it to its own terminal.
//
//   receiveTerminal(socket)               → controller fd (close-on-exec); the socket is closed
//   resizePty(controller, rows, columns)  TIOCSWINSZ: the kernel sends SIGWINCH to the foreground process group
#include "pty.h"

#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "errors.h"
#include "fd_passing.h"

namespace minictr {

Napi::Value ReceiveTerminal(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 1 || !info[0].IsNumber()) return ThrowTypeError(env, "receiveTerminal(socket: number)");
  int socket = info[0].As<Napi::Number>().Int32Value();
  // The child sent it before its exec, which release() has seen: it is waiting, so never block.
  int controller = ReceiveFd(socket, MSG_DONTWAIT);
  int saved = errno;
  close(socket);
  if (controller < 0) return ThrowErrno(env, "receive the pseudo-terminal from the container", saved != 0 ? saved : EPROTO);
  return Napi::Number::New(env, controller);
}

Napi::Value ResizePty(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 3 || !info[0].IsNumber() || !info[1].IsNumber() || !info[2].IsNumber()) {
    return ThrowTypeError(env, "resizePty(controller: number, rows: number, columns: number)");
  }
  struct winsize size;
  memset(&size, 0, sizeof size);
  size.ws_row = static_cast<unsigned short>(info[1].As<Napi::Number>().Uint32Value());
  size.ws_col = static_cast<unsigned short>(info[2].As<Napi::Number>().Uint32Value());
  if (ioctl(info[0].As<Napi::Number>().Int32Value(), TIOCSWINSZ, &size) < 0) {
    return ThrowErrno(env, "resize pseudo-terminal", errno);
  }
  return env.Undefined();
}

}  // namespace minictr
