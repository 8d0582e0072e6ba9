// Volumes: -v, --mount and --tmpfs, mounted by the container's first process after its overlay root is mounted and
// before pivot_root (as runc mounts a bundle's mounts), so that the host's paths (the sources) are still visible.
//
// The container path is hostile. An image, or a volume shared with another container, can put a symlink anywhere
// on it (`/data -> /etc`, `/data -> ../../..`), and a container running beside this one can swap a directory on
// it for a symlink at any instant (runc's CVE-2021-30465 was such a race). So no path under the root is ever handed
// to mount(2) as a string:
//   1. The target is resolved with openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS) relative to a descriptor of the
//      root: `..` stops at the root and symlinks, absolute or relative, are followed as the container would follow
//      them, inside it. A missing component is made with mkdirat() in the directory its prefix resolved to, then
//      resolved again the same way; a missing file target is made with O_CREAT | O_EXCL | O_NOFOLLOW.
//   2. The result is an O_PATH descriptor, and mount(2) is given /proc/self/fd/N: the kernel mounts on exactly the
//      object that descriptor holds, whatever has become of the path since step 1. Nothing is looked up twice by
//      name between resolving and mounting.
//   3. Read-only binds: a bind cannot be made read-only in one call, so the new mount is opened again inside the
//      root and must be the source's very inode (device and inode compared) before it is remounted through its
//      descriptor; a swap in between fails the run instead of remounting something else. The remount keeps the
//      flags the kernel locks on the source mount (nosuid, nodev, noexec, atime), as runc does.
// Propagation: the whole tree was made private (step 6 in child.cc), and each new mount is made private again,
// recursively (Docker's default, rprivate), so nothing mounted in a volume later reaches the host or back.
//
// Sources are the user's (a -v host path is followed like any host path, as Docker does); named volumes are
// /var/lib/minictr/volumes/<name>/_data, created by minictr.
#include "mounts.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace minictr {

namespace {

// "/proc/self/fd/" + fd, without snprintf (not async-signal-safe).
void FdPath(int fd, char (&path)[32]) {
  const char prefix[] = "/proc/self/fd/";
  char digits[12];
  int count = 0;
  unsigned number = static_cast<unsigned>(fd);
  do {
    digits[count++] = static_cast<char>('0' + number % 10);
    number /= 10;
  } while (number != 0);
  size_t at = 0;
  for (; prefix[at] != '\0'; at++) path[at] = prefix[at];
  while (count > 0) path[at++] = digits[--count];
  path[at] = '\0';
}

// Closes fd keeping errno, for the failure paths.
void CloseKeepingErrno(int fd) {
  int saved = errno;
  if (fd >= 0) close(fd);
  errno = saved;
}

// A regular file at `name` in the directory `parent`: created empty when missing, never through a symlink.
bool MakeFile(int parent, const char* name) {
  int fd = openat(parent, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) return errno == EEXIST;  // whatever is there now is resolved inside the root next
  close(fd);
  return true;
}

// Mount flags of the mount holding fd that a bind remount must repeat (the kernel refuses to clear locked ones).
unsigned long KeptFlags(int fd) {
  struct statfs info;
  if (fstatfs(fd, &info) < 0) return 0;
  return static_cast<unsigned long>(info.f_flags) &
         (MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_RELATIME);
}

// One bind: steps 2 and 3 of the file's comment. `target` is the O_PATH descriptor of step 1.
bool Bind(int root, const MountConfig& mount_config, int source, int target) {
  char source_path[32], target_path[32];
  FdPath(source, source_path);
  FdPath(target, target_path);
  if (mount(source_path, target_path, nullptr, MS_BIND | MS_REC, nullptr) < 0) return false;
  int mounted = OpenBeneathRoot(root, mount_config.target, O_PATH);
  if (mounted < 0) return false;
  struct stat want, got;
  bool same = fstat(source, &want) == 0 && fstat(mounted, &got) == 0;
  if (same && (want.st_dev != got.st_dev || want.st_ino != got.st_ino)) {
    errno = EXDEV;  // the path no longer leads to the new mount: something moved on it
    same = false;
  }
  char mounted_path[32];
  FdPath(mounted, mounted_path);
  bool ok = same && mount(nullptr, mounted_path, nullptr, MS_REC | MS_PRIVATE, nullptr) == 0;
  if (ok && mount_config.read_only) {
    ok = mount(nullptr, mounted_path, nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | KeptFlags(mounted), nullptr) == 0;
  }
  CloseKeepingErrno(mounted);
  return ok;
}

// Docker's tmpfs: nosuid, nodev, noexec.
bool Tmpfs(const MountConfig& mount_config, int target) {
  char target_path[32];
  FdPath(target, target_path);
  unsigned long flags = MS_NOSUID | MS_NODEV | MS_NOEXEC | (mount_config.read_only ? MS_RDONLY : 0);
  return mount("tmpfs", target_path, "tmpfs", flags, mount_config.data) == 0;
}

}  // namespace

int OpenBeneathRoot(int root_fd, const char* path, int flags) {
  struct open_how how;
  char* bytes = reinterpret_cast<char*>(&how);
  for (size_t i = 0; i < sizeof how; i++) bytes[i] = 0;
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  int fd;
  do {
    fd = static_cast<int>(syscall(SYS_openat2, root_fd, path, &how, sizeof how));
  } while (fd < 0 && errno == EINTR);
  return fd;
}

int OpenMountTarget(int root_fd, const char* path, bool directory) {
  size_t length = 0;
  while (path[length] != '\0') length++;
  if (path[0] != '/' || length >= kMaxMountTarget) {
    errno = ENAMETOOLONG;
    return -1;
  }
  char prefix[kMaxMountTarget];
  for (size_t i = 0; i <= length; i++) prefix[i] = path[i];
  int current = OpenBeneathRoot(root_fd, "/", O_PATH | O_DIRECTORY);
  // Component by component: prefix[0..end) is resolved inside the root; the component is made in `current`, the
  // directory the previous prefix resolved to, only when missing.
  size_t start = 1;
  while (current >= 0 && start < length) {
    size_t end = start;
    while (end < length && prefix[end] != '/') end++;
    bool last = end == length;
    int flags = last && !directory ? O_PATH : O_PATH | O_DIRECTORY;
    prefix[end] = '\0';
    int next = OpenBeneathRoot(root_fd, prefix, flags);
    if (next < 0 && errno == ENOENT) {
      const char* name = prefix + start;
      bool made = last && !directory ? MakeFile(current, name) : (mkdirat(current, name, 0755) == 0 || errno == EEXIST);
      next = made ? OpenBeneathRoot(root_fd, prefix, flags) : -1;
    }
    if (!last) prefix[end] = '/';
    CloseKeepingErrno(current);
    current = next;
    start = end + 1;
  }
  return current;
}

bool MountVolumes(const char* root_path, const MountConfig* mounts, size_t count) {
  if (count == 0) return true;
  int root = open(root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) return false;
  for (size_t i = 0; i < count; i++) {
    const MountConfig& entry = mounts[i];
    int source = -1;
    bool directory = true;
    if (entry.kind == kMountBind) {
      struct stat info;
      source = open(entry.source, O_PATH | O_CLOEXEC);
      if (source < 0 || fstat(source, &info) < 0) {
        CloseKeepingErrno(source);
        CloseKeepingErrno(root);
        return false;
      }
      directory = S_ISDIR(info.st_mode);
    }
    int target = OpenMountTarget(root, entry.target, directory);
    bool ok = target >= 0 && (entry.kind == kMountBind ? Bind(root, entry, source, target) : Tmpfs(entry, target));
    CloseKeepingErrno(target);
    CloseKeepingErrno(source);
    if (!ok) {
      CloseKeepingErrno(root);
      return false;
    }
  }
  close(root);
  return true;
}

}  // namespace minictr
