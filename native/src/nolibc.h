// The few system calls of minictr-monitor (and of minictr-proxy, proxy.cc), made without a C library (x86_64 and
// aarch64 only).
//
// A detached container's monitor lives as long as the container, one per container: linked against glibc, even
// statically, it cost ~870 KiB resident. Built with -nostdlib it is a few pages, as runc-dmz is with the kernel's
// nolibc. Constants and structures come from the kernel's UAPI headers; every call returns what the kernel returns
// (a negative errno on failure: there is no errno variable). _start hands the stack's argc, argv and envp to main.
#pragma once

#include <asm/socket.h>
#include <asm/unistd.h>
#include <linux/errno.h>
#include <linux/fcntl.h>
#include <linux/poll.h>
#include <linux/signal.h>
#include <linux/time.h>
#include <linux/types.h>
#include <linux/uio.h>
#include <linux/wait.h>

#include <cstddef>

#if !defined(__x86_64__) && !defined(__aarch64__)
#error "minictr-monitor's system calls are written for x86_64 and aarch64"
#endif

namespace sys {

inline long Call(long number, long a = 0, long b = 0, long c = 0, long d = 0, long e = 0, long f = 0) {
#if defined(__x86_64__)
  register long r10 asm("r10") = d;
  register long r8 asm("r8") = e;
  register long r9 asm("r9") = f;
  long result;
  asm volatile("syscall"
               : "=a"(result)
               : "a"(number), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
               : "rcx", "r11", "memory");
  return result;
#else
  register long x8 asm("x8") = number;
  register long x0 asm("x0") = a;
  register long x1 asm("x1") = b;
  register long x2 asm("x2") = c;
  register long x3 asm("x3") = d;
  register long x4 asm("x4") = e;
  register long x5 asm("x5") = f;
  asm volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5) : "memory");
  return x0;
#endif
}

template <typename... Args>
long Sys(long number, Args... args) {
  return Call(number, (long)args...);
}

inline long Read(int fd, void* buffer, size_t size) { return Sys(__NR_read, fd, buffer, size); }
inline long Write(int fd, const void* buffer, size_t size) { return Sys(__NR_write, fd, buffer, size); }
inline long Writev(int fd, const struct iovec* parts, int count) { return Sys(__NR_writev, fd, parts, count); }
inline long Pwrite(int fd, const void* buffer, size_t size, long offset) {
  return Sys(__NR_pwrite64, fd, buffer, size, offset);
}
inline int Open(const char* path, int flags, int mode = 0) {
  return static_cast<int>(Sys(__NR_openat, AT_FDCWD, path, flags, mode));
}
inline int Close(int fd) { return static_cast<int>(Sys(__NR_close, fd)); }
inline long Fcntl(int fd, int command, long argument = 0) { return Sys(__NR_fcntl, fd, command, argument); }
inline long Seek(int fd, long offset, int whence) { return Sys(__NR_lseek, fd, offset, whence); }
inline int Truncate(int fd, long length) { return static_cast<int>(Sys(__NR_ftruncate, fd, length)); }
inline int Rename(const char* from, const char* to) {
  return static_cast<int>(Sys(__NR_renameat2, AT_FDCWD, from, AT_FDCWD, to, 0));
}
inline int Unlink(const char* path) { return static_cast<int>(Sys(__NR_unlinkat, AT_FDCWD, path, 0)); }
// poll() with no timeout (aarch64 has only ppoll).
inline int Poll(struct pollfd* fds, unsigned count) {
  return static_cast<int>(Sys(__NR_ppoll, fds, count, nullptr, nullptr, sizeof(unsigned long)));
}
inline int WaitPidfd(int pidfd, siginfo_t* info) {
  return static_cast<int>(Sys(__NR_waitid, P_PIDFD, pidfd, info, WEXITED, nullptr));
}
// The kernel's struct user_msghdr and struct cmsghdr (not in the UAPI headers).
struct MessageHeader {
  void* name;
  int name_length;
  struct iovec* parts;
  size_t part_count;
  void* control;
  size_t control_length;
  unsigned flags;
};
struct ControlHeader {
  size_t length;
  int level;
  int type;
};
inline long Recvmsg(int socket, MessageHeader* message, int flags) { return Sys(__NR_recvmsg, socket, message, flags); }
inline int ClockRealtime(struct __kernel_timespec* now) {
  return static_cast<int>(Sys(__NR_clock_gettime, CLOCK_REALTIME, now));
}
// SIG_IGN for `signal`: the kernel's struct sigaction (handler, flags, restorer, mask) is the same on both.
inline int IgnoreSignal(int signal) {
  struct {
    unsigned long handler, flags, restorer, mask;
  } action = {1, 0, 0, 0};
  return static_cast<int>(Sys(__NR_rt_sigaction, signal, &action, nullptr, sizeof action.mask));
}
inline int PidfdSendSignal(int pidfd, int signal) { return static_cast<int>(Sys(__NR_pidfd_send_signal, pidfd, signal, nullptr, 0)); }
inline int Execve(const char* path, char* const* argv, char* const* envp) {
  return static_cast<int>(Sys(__NR_execve, path, argv, envp));
}
[[noreturn]] inline void Exit(int status) {
  for (;;) Sys(__NR_exit_group, status);
}

}  // namespace sys

// A decimal number, digits only, up to the first `end` character (the text's end, or a separator); false when there
// is none, or anything else, or it overflows. `rest`, when given, is set past the number.
inline bool ParseNumber(const char* text, unsigned long long* out, char end = '\0', const char** rest = nullptr) {
  unsigned long long value = 0;
  if (*text == end) return false;
  for (; *text != end; text++) {
    unsigned digit = static_cast<unsigned>(*text - '0');
    if (digit > 9 || value > (~0ULL - digit) / 10) return false;
    value = value * 10 + digit;
  }
  *out = value;
  if (rest != nullptr) *rest = text;
  return true;
}

// What the compiler may call for copies and zeroing even in freestanding code.
extern "C" void* memset(void* to, int byte, size_t size);
extern "C" void* memcpy(void* to, const void* from, size_t size);

// The program's entry: what main returns is the exit status.
int main(int argc, char** argv, char** envp);
