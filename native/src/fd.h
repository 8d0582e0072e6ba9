// An owned file descriptor: closed when its owner goes out of scope, unless release()d to a new owner. Error paths
// then close what they opened without a list to keep.
//
// Between clone() and execve() the child never returns into the scopes that own these (it execs or _exit()s), so no
// destructor runs there; and a destructor only calls close(2), which is async-signal-safe, and keeps errno.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace minictr {

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(other.release()) {}
  Fd& operator=(Fd&& other) noexcept {
    reset(other.release());
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }

  // Gives the descriptor up (to a JavaScript caller, another process): -1 if none.
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

  // Closes the descriptor held, if any, and holds `fd` instead; errno is left as it was.
  void reset(int fd = -1) {
    if (fd_ >= 0) {
      int saved = errno;
      close(fd_);
      errno = saved;
    }
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

// Both ends of a pipe.
struct Pipe {
  Fd read;
  Fd write;

  // pipe2(O_CLOEXEC), so that no program started meanwhile inherits an end; false with errno set.
  bool Open() {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0) return false;
    read.reset(fds[0]);
    write.reset(fds[1]);
    return true;
  }
};

}  // namespace minictr
