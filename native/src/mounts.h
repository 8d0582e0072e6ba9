// Volumes: the bind and tmpfs mounts of -v, --mount and --tmpfs, made by the container's first process on paths
// resolved inside its new root (mounts.cc says how, and why that is race-free). Async-signal-safe throughout: the
// child calls it between clone() and execve().
#pragma once

#include <cstddef>

namespace minictr {

enum MountKind : int {
  kMountBind = 1,   // source: a host directory or file (a -v path, or a named volume's _data)
  kMountTmpfs = 2,  // a new tmpfs with `data` as its options
};

struct MountConfig {
  int kind;
  const char* source;  // kMountBind: the host path; unused for tmpfs
  const char* target;  // absolute and normalised (no "", "." or ".." components), inside the container
  bool read_only;
  const char* data;  // kMountTmpfs: "size=…,mode=…" (may be empty); unused for binds
};

// The longest target path the child handles (it copies each into a buffer on its stack).
constexpr size_t kMaxMountTarget = 4096;

// openat2(root_fd, path, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS) with `flags` | O_CLOEXEC: `..` and every
// symlink, absolute or relative, resolve as if root_fd were "/". Returns the descriptor or -1 (errno).
int OpenBeneathRoot(int root_fd, const char* path, int flags);

// The directory (or, when !directory, the regular file) at `path` inside the root, as an O_PATH descriptor, made
// where missing: each missing component is created with mkdirat() in the directory its prefix resolved to inside
// the root, and re-resolved inside the root. `path` is absolute; returns -1 with errno on failure.
int OpenMountTarget(int root_fd, const char* path, bool directory);

// Mounts every entry, in order (parents before the paths beneath them), under the root mounted at root_path. On
// failure returns false with errno set.
bool MountVolumes(const char* root_path, const MountConfig* mounts, size_t count);

}  // namespace minictr
