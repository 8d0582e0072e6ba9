// The container's mounts, made by its first process: its overlay root, then the bind and tmpfs mounts of -v, --mount
// and --tmpfs on paths resolved inside that root (mounts.cc says how, and why that is race-free). Async-signal-safe
// throughout: the child calls them between clone() and execve().
#pragma once

#include <cstddef>

namespace minictr {

enum MountKind : int {
  kMountBind = 1,   // source: a host directory or file (a -v path, or a named volume's _data)
  kMountTmpfs = 2,  // a new tmpfs with `data` as its options
  kMountOci = 3,    // a config.json mount: `fstype`, `flags` and `data` as given (a bind when flags has MS_BIND)
};

struct MountConfig {
  int kind;
  const char* source;  // kMountBind: the host path; unused for tmpfs
  const char* target;  // absolute and normalised (no "", "." or ".." components), inside the container
  bool read_only;
  const char* data;  // kMountTmpfs: "size=…,mode=…" (may be empty); unused for binds
  // kMountOci only:
  const char* fstype = nullptr;
  unsigned long flags = 0;        // MS_* of the options; with MS_BIND, those beyond MS_BIND|MS_REC apply by a remount
  unsigned long propagation = 0;  // MS_SHARED, MS_SLAVE, MS_PRIVATE, MS_UNBINDABLE (with MS_REC), applied last; 0: none
};

// The container's root: read-only layers under its own writable one (src/container/overlay.ts decides how).
struct OverlayConfig {
  const char* target;
  const char* const* lower;  // topmost first
  size_t lower_count;
  const char* upper;
  const char* work;
  bool volatile_upper;  // overlayfs's "volatile": the upper layer is never synced
  bool lowerdir_plus;   // fsopen + fsconfig("lowerdir+") first, mount(2) where the kernel refuses them
  const char* options;  // mount(2)'s options for the same overlay; null: mount(2) cannot take them
};

// Mounts the overlay on its target. On failure returns false with errno set (E2BIG: mount(2) was needed and the
// options were null).
bool MountOverlay(const OverlayConfig& overlay);

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
