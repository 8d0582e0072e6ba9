// Pseudo-terminals for `-t`: a pair allocated from the host's /dev/ptmx. minictr keeps the controller end and relays
// it to its own terminal; the replica becomes the container's stdin, stdout, stderr and controlling terminal.
//
//   openPty(rows, columns) → {controller, replica}   both close-on-exec; the replica is set to the given size
//   resizePty(controller, rows, columns)             TIOCSWINSZ: the kernel sends SIGWINCH to the foreground group
#include "pty.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace minictr {

namespace {

bool SizeArgs(const Napi::CallbackInfo& info, size_t first, struct winsize* size) {
  if (!info[first].IsNumber() || !info[first + 1].IsNumber()) return false;
  memset(size, 0, sizeof *size);
  size->ws_row = static_cast<unsigned short>(info[first].As<Napi::Number>().Uint32Value());
  size->ws_col = static_cast<unsigned short>(info[first + 1].As<Napi::Number>().Uint32Value());
  return true;
}

void ThrowErrno(Napi::Env env, const char* what, int error) {
  Napi::Error failure = Napi::Error::New(env, std::string(what) + ": " + strerror(error));
  failure.Set("errno", Napi::Number::New(env, error));
  failure.ThrowAsJavaScriptException();
}

}  // namespace

Napi::Value OpenPty(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  struct winsize size;
  if (info.Length() != 2 || !SizeArgs(info, 0, &size)) {
    Napi::TypeError::New(env, "openPty(rows: number, columns: number)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int controller = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (controller < 0) {
    ThrowErrno(env, "open /dev/ptmx", errno);
    return env.Undefined();
  }
  char name[64];
  int replica = -1;
  if (unlockpt(controller) < 0 || ptsname_r(controller, name, sizeof name) != 0 ||
      (replica = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0 || ioctl(replica, TIOCSWINSZ, &size) < 0) {
    int saved = errno;
    close(controller);
    if (replica >= 0) close(replica);
    ThrowErrno(env, "open pseudo-terminal replica", saved);
    return env.Undefined();
  }
  Napi::Object pair = Napi::Object::New(env);
  pair.Set("controller", controller);
  pair.Set("replica", replica);
  return pair;
}

Napi::Value ResizePty(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  struct winsize size;
  if (info.Length() != 3 || !info[0].IsNumber() || !SizeArgs(info, 1, &size)) {
    Napi::TypeError::New(env, "resizePty(controller: number, rows: number, columns: number)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (ioctl(info[0].As<Napi::Number>().Int32Value(), TIOCSWINSZ, &size) < 0) ThrowErrno(env, "resize pseudo-terminal", errno);
  return env.Undefined();
}

}  // namespace minictr
