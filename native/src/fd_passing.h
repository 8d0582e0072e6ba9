// Passing a file descriptor over a Unix socket (SCM_RIGHTS): how a container's child hands its pseudo-terminal's
// controller to minictr or to minictr-monitor (which, built without a C library, receives it with its own copy:
// monitor.cc's ReceiveFd). Header-only; both functions are async-signal-safe (the child calls SendFd between clone()
// and execve()).
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>
#include <cstring>

namespace minictr {

// The message both sides use: one byte of data, and room for one descriptor in its control data.
struct FdMessage {
  char byte = 'f';
  char space[CMSG_SPACE(sizeof(int))] = {};
  struct iovec data = {&byte, 1};
  struct msghdr header = {};

  FdMessage() {
    header.msg_iov = &data;
    header.msg_iovlen = 1;
    header.msg_control = space;
    header.msg_controllen = sizeof space;
  }
  FdMessage(const FdMessage&) = delete;
  FdMessage& operator=(const FdMessage&) = delete;
};

// Returns false on failure, with errno set.
inline bool SendFd(int socket, int fd) {
  FdMessage message;
  struct cmsghdr* control = CMSG_FIRSTHDR(&message.header);
  control->cmsg_level = SOL_SOCKET;
  control->cmsg_type = SCM_RIGHTS;
  control->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(control), &fd, sizeof(int));
  return sendmsg(socket, &message.header, MSG_NOSIGNAL) == 1;
}

// The descriptor sent by SendFd (close-on-exec), or -1: errno set, or 0 when nothing came (the sender is gone).
inline int ReceiveFd(int socket, int flags) {
  FdMessage message;
  ssize_t got = recvmsg(socket, &message.header, flags | MSG_CMSG_CLOEXEC);
  struct cmsghdr* control = got == 1 ? CMSG_FIRSTHDR(&message.header) : nullptr;
  if (control == nullptr || control->cmsg_level != SOL_SOCKET || control->cmsg_type != SCM_RIGHTS) {
    if (got >= 0) errno = 0;
    return -1;
  }
  int fd;
  memcpy(&fd, CMSG_DATA(control), sizeof fd);
  return fd;
}

}  // namespace minictr
