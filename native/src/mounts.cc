// The container's mounts, made by its first process before pivot_root.
//
// The overlay root: with the new mount API where src/container/overlay.ts found the kernel has overlayfs's
// lowerdir+ (Linux 6.8): one fsconfig() per layer, so neither the number of layers nor ':' and ',' in their paths
// matter; otherwise, or where the kernel refuses it after all, mount(2) with the options in one string.
//
// Volumes: -v, --mount and --tmpfs, mounted after the overlay root and before pivot_root (as runc mounts a bundle's
// mounts), so that the host's paths (the sources) are still visible.
//
// The container path is hostile. An image, or a volume shared with another container, can put a symlink anywhere
// on it (`/data -> /etc`, `/data -> ../../..`), and a container running beside this one can swap a directory on
// it for a symlink at any instant (runc's CVE-2021-30465 was such a race). So no path under the root is ever handed
// to mount(2) as a string:
//   1. The target is resolved with openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS) relative to a descriptor of the
//      root: `..` stops at the root and symlinks, absolute or relative, are followed as the container would follow
//      them, inside it. A missing component is made with mkdirat() in the directory its prefix resolved to, then
//      resolved again the same way (a dangling symlink is followed to where it points inside the root, and made
//      there); a missing file target is made with O_CREAT | O_EXCL | O_NOFOLLOW.
//   2. The result is an O_PATH descriptor, and mount(2) is given /proc/self/fd/N: the kernel mounts on exactly the
//      object that descriptor holds, whatever has become of the path since step 1. Nothing is looked up twice by
//      name between resolving and mounting.
//   3. Read-only binds: a bind cannot be made read-only in one call, so the new mount is opened again inside the
//      root and must be the source's very inode (device and inode compared) before it is made read-only through
//      its descriptor, with every mount beneath it (MakeReadOnly); a swap in between fails the run instead of
//      changing something else.
// Propagation: the whole tree was made private (step 6 in child.cc), and each new mount is made private again,
// recursively (Docker's default, rprivate), so nothing mounted in a volume later reaches the host or back.
//
// Sources are the user's (a -v host path is followed like any host path, as Docker does); named volumes are
// /var/lib/minictr/volumes/<name>/_data, created by minictr.
#include "mounts.h"
#include "io.h"

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

// "/proc/self/fd/" + fd: the path that names what the descriptor holds.
void FdPath(int fd, char (&path)[32]) { NumberedPath("/proc/self/fd/", static_cast<unsigned>(fd), path); }

// Closes fd keeping errno, for the failure paths.
void CloseKeepingErrno(int fd) {
  int saved = errno;
  if (fd >= 0) close(fd);
  errno = saved;
}

// fsconfig() of a string option, or of a flag where `value` is null.
bool Configure(int context, const char* key, const char* value) {
  unsigned int command = value == nullptr ? FSCONFIG_SET_FLAG : FSCONFIG_SET_STRING;
  return syscall(SYS_fsconfig, context, command, key, value, 0) == 0;
}

enum class NewApiMount { kMounted, kUnsupported, kFailed };

// The overlay through the new mount API: a file system context, the layers appended one by one with lowerdir+
// (topmost first), then the superblock, a detached mount of it, and that mount moved onto the target. kUnsupported:
// the kernel has no fsopen (ENOSYS), or overlayfs does not know lowerdir+ (EINVAL on the first layer: before 6.8).
NewApiMount MountOverlayNewApi(const OverlayConfig& overlay) {
  int context = static_cast<int>(syscall(SYS_fsopen, "overlay", FSOPEN_CLOEXEC));
  if (context < 0) return errno == ENOSYS ? NewApiMount::kUnsupported : NewApiMount::kFailed;
  bool ok = Configure(context, "source", "overlay");
  for (size_t i = 0; ok && i < overlay.lower_count; i++) {
    ok = Configure(context, "lowerdir+", overlay.lower[i]);
    if (!ok && i == 0 && errno == EINVAL) {
      close(context);
      return NewApiMount::kUnsupported;
    }
  }
  ok = ok && Configure(context, "upperdir", overlay.upper) && Configure(context, "workdir", overlay.work) &&
       (!overlay.volatile_upper || Configure(context, "volatile", nullptr)) &&
       syscall(SYS_fsconfig, context, FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) == 0;
  int mounted = ok ? static_cast<int>(syscall(SYS_fsmount, context, FSMOUNT_CLOEXEC, 0)) : -1;
  ok = mounted >= 0 &&
       syscall(SYS_move_mount, mounted, "", AT_FDCWD, overlay.target, MOVE_MOUNT_F_EMPTY_PATH) == 0;
  CloseKeepingErrno(mounted);
  CloseKeepingErrno(context);
  return ok ? NewApiMount::kMounted : NewApiMount::kFailed;
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

// The bind at `mounted` (its descriptor and /proc/self/fd path) and every mount beneath it read-only: the bind is
// recursive, and a remount only reaches the top one (`-v /:/host:ro` left the host's /run, /home… writable).
// mount_setattr(AT_RECURSIVE) sets the flag on the whole tree at once, leaving the flags the kernel locks alone;
// a kernel older than 5.12 has no such call, and only the top mount is remounted read-only (Docker does the same).
bool MakeReadOnly(int mounted, const char* mounted_path) {
  struct mount_attr attr;
  char* bytes = reinterpret_cast<char*>(&attr);
  for (size_t i = 0; i < sizeof attr; i++) bytes[i] = 0;
  attr.attr_set = MOUNT_ATTR_RDONLY;
  if (syscall(SYS_mount_setattr, mounted, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) == 0) return true;
  if (errno != ENOSYS) return false;
  return mount(nullptr, mounted_path, nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | KeptFlags(mounted), nullptr) == 0;
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
  if (ok && mount_config.read_only) ok = MakeReadOnly(mounted, mounted_path);
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

// A config.json mount (kMountOci). A bind is made as -v's is (Bind) and its other flags (ro, nosuid, ...) applied by
// a remount, as runc does; any other type is mounted with its flags and data. Propagation comes last, on the new
// mount found again inside the root.
bool OciMount(int root, const MountConfig& mount_config, int source, int target) {
  char target_path[32];
  FdPath(target, target_path);
  constexpr unsigned long kBindFlags = MS_BIND | MS_REC;
  unsigned long extra = mount_config.flags & ~kBindFlags;
  bool bind = (mount_config.flags & MS_BIND) != 0;
  bool ok = bind ? Bind(root, mount_config, source, target)
                 : mount(mount_config.source, target_path, mount_config.fstype, mount_config.flags,
                         mount_config.data) == 0;
  if (!ok || ((!bind || extra == 0) && mount_config.propagation == 0)) return ok;
  int mounted = OpenBeneathRoot(root, mount_config.target, O_PATH);
  if (mounted < 0) return false;
  char mounted_path[32];
  FdPath(mounted, mounted_path);
  if (bind && extra != 0) {
    ok = mount(nullptr, mounted_path, nullptr, MS_BIND | MS_REMOUNT | extra | KeptFlags(mounted), nullptr) == 0;
  }
  if (ok && mount_config.propagation != 0) ok = mount(nullptr, mounted_path, nullptr, mount_config.propagation, nullptr) == 0;
  CloseKeepingErrno(mounted);
  return ok;
}

}  // namespace

bool MountOverlay(const OverlayConfig& overlay) {
  if (overlay.lowerdir_plus) {
    NewApiMount result = MountOverlayNewApi(overlay);
    if (result != NewApiMount::kUnsupported) return result == NewApiMount::kMounted;
  }
  // The kernel would cut options longer than a page, and mount fewer layers, or none writable: refused instead.
  if (overlay.options == nullptr) return errno = E2BIG, false;
  return mount("overlay", overlay.target, "overlay", 0, overlay.options) == 0;
}

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
  // `done` is the path resolved so far (re-resolved inside the root at each step: symlinks and ".." in it are the
  // kernel's to follow), `rest` what remains; a dangling symlink's text is put in front of `rest`, as runc's
  // MkdirAllInRoot does, so that the missing directories are made where the link points inside the root.
  char done[kMaxMountTarget] = "/";
  char rest[kMaxMountTarget];
  size_t done_length = 1, rest_length = 0, rest_at = 0;
  while (path[rest_length] != '\0') rest_length++;
  if (path[0] != '/' || rest_length >= kMaxMountTarget) {
    errno = ENAMETOOLONG;
    return -1;
  }
  for (size_t i = 0; i <= rest_length; i++) rest[i] = path[i];
  int current = OpenBeneathRoot(root_fd, "/", O_PATH | O_DIRECTORY);
  int links = 0;
  while (current >= 0) {
    while (rest_at < rest_length && rest[rest_at] == '/') rest_at++;
    if (rest_at >= rest_length) return current;
    size_t end = rest_at;
    while (end < rest_length && rest[end] != '/') end++;
    size_t name_length = end - rest_at;
    bool last = end >= rest_length;
    if (done_length + 1 + name_length >= kMaxMountTarget) {
      CloseKeepingErrno(current);
      errno = ENAMETOOLONG;
      return -1;
    }
    // done + "/" + name
    size_t saved_length = done_length;
    if (done[done_length - 1] != '/') done[done_length++] = '/';
    char* name = done + done_length;
    for (size_t i = 0; i < name_length; i++) done[done_length++] = rest[rest_at + i];
    done[done_length] = '\0';
    rest_at = end;
    int flags = last && !directory ? O_PATH : O_PATH | O_DIRECTORY;
    int next = OpenBeneathRoot(root_fd, done, flags);
    if (next < 0 && errno == ENOENT) {
      char link[kMaxMountTarget];
      ssize_t link_length = readlinkat(current, name, link, sizeof link);
      if (link_length > 0 && static_cast<size_t>(link_length) < sizeof link) {
        // A dangling symlink: continue with its target, from the directory holding it (or the root).
        size_t remaining = rest_length - rest_at;
        if (++links > 40 || static_cast<size_t>(link_length) + 1 + remaining >= kMaxMountTarget) {
          CloseKeepingErrno(current);
          errno = links > 40 ? ELOOP : ENAMETOOLONG;
          return -1;
        }
        for (size_t i = 0; i < remaining; i++) rest[link_length + 1 + i] = rest[rest_at + i];
        for (ssize_t i = 0; i < link_length; i++) rest[i] = link[i];
        rest[link_length] = '/';
        rest_length = static_cast<size_t>(link_length) + 1 + remaining;
        rest[rest_length] = '\0';
        rest_at = 0;
        done_length = link[0] == '/' ? 1 : saved_length;
        done[done_length] = '\0';
        continue;
      }
      errno = ENOENT;
      bool made = last && !directory ? MakeFile(current, name) : (mkdirat(current, name, 0755) == 0 || errno == EEXIST);
      next = made ? OpenBeneathRoot(root_fd, done, flags) : -1;
    }
    CloseKeepingErrno(current);
    current = next;
  }
  return -1;
}

bool MountVolumes(const char* root_path, const MountConfig* mounts, size_t count) {
  if (count == 0) return true;
  int root = open(root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) return false;
  for (size_t i = 0; i < count; i++) {
    const MountConfig& entry = mounts[i];
    int source = -1;
    bool directory = true;
    bool needs_source = entry.kind == kMountBind || (entry.kind == kMountOci && (entry.flags & MS_BIND) != 0);
    if (needs_source) {
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
    bool ok = target >= 0 && (entry.kind == kMountOci    ? OciMount(root, entry, source, target)
                              : entry.kind == kMountBind ? Bind(root, entry, source, target)
                                                         : Tmpfs(entry, target));
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
