// Passing a file descriptor over a Unix socket (SCM_RIGHTS): how a container's child hands its pseudo-terminal's
// controller to minictr or to minictr-monitor. Header-only, so the static helpers share it; both functions are
// async-signal-safe (the child calls SendFd between clone() and execve()).
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>
#include <cstring>

namespace minictr {

// One byte of data carries the descriptor. Returns false on failure, with errno set.
inline bool SendFd(int socket, int fd) {
  char space[CMSG_SPACE(sizeof(int))];
  memset(space, 0, sizeof space);
  char byte = 'f';
  struct iovec data = {&byte, 1};
  struct msghdr message;
  memset(&message, 0, sizeof message);
  message.msg_iov = &data;
  message.msg_iovlen = 1;
  message.msg_control = space;
  message.msg_controllen = sizeof space;
  struct cmsghdr* header = CMSG_FIRSTHDR(&message);
  header->cmsg_level = SOL_SOCKET;
  header->cmsg_type = SCM_RIGHTS;
  header->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(header), &fd, sizeof(int));
  return sendmsg(socket, &message, MSG_NOSIGNAL) == 1;
}

// The descriptor sent by SendFd (close-on-exec), or -1: errno set, or 0 when nothing came (the sender is gone).
inline int ReceiveFd(int socket, int flags) {
  char space[CMSG_SPACE(sizeof(int))];
  char byte;
  struct iovec data = {&byte, 1};
  struct msghdr message;
  memset(&message, 0, sizeof message);
  message.msg_iov = &data;
  message.msg_iovlen = 1;
  message.msg_control = space;
  message.msg_controllen = sizeof space;
  ssize_t got = recvmsg(socket, &message, flags | MSG_CMSG_CLOEXEC);
  struct cmsghdr* header = got == 1 ? CMSG_FIRSTHDR(&message) : nullptr;
  if (header == nullptr || header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_RIGHTS) {
    if (got >= 0) errno = 0;
    return -1;
  }
  int fd;
  memcpy(&fd, CMSG_DATA(header), sizeof fd);
  return fd;
}

}  // namespace minictr
