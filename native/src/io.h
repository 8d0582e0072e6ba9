// Whole reads and writes on pipes, retried on EINTR, and paths with a number in them, written without snprintf.
// Async-signal-safe: the children use them before exec.
#pragma once

#include <unistd.h>

#include <cerrno>
#include <cstddef>

namespace minictr {

// false with errno set, or at a write of 0 bytes.
inline bool WriteFully(int fd, const void* data, size_t length) {
  const char* p = static_cast<const char*>(data);
  while (length > 0) {
    ssize_t n = write(fd, p, length);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    length -= static_cast<size_t>(n);
  }
  return true;
}

// The number of bytes read: fewer than `length` at EOF or on an error.
inline size_t ReadFully(int fd, void* data, size_t length) {
  char* p = static_cast<char*>(data);
  size_t have = 0;
  while (have < length) {
    ssize_t n = read(fd, p + have, length - have);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    have += static_cast<size_t>(n);
  }
  return have;
}

// `prefix` followed by `number` in decimal ("/proc/self/fd/" + 7): the prefix must leave room for 10 digits.
inline void NumberedPath(const char* prefix, unsigned number, char (&path)[32]) {
  char digits[12];
  int count = 0;
  do {
    digits[count++] = static_cast<char>('0' + number % 10);
    number /= 10;
  } while (number != 0);
  size_t at = 0;
  for (; prefix[at] != '\0'; at++) path[at] = prefix[at];
  while (count > 0) path[at++] = digits[--count];
  path[at] = '\0';
}

}  // namespace minictr
