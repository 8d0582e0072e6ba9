// The system calls of a layer unpack. Parsing, path normalisation and whiteout rules are TypeScript's
// (src/image/unpack.ts); this file only writes, and every write is confined to the layer's root directory:
//
//   - the parent directory of an entry is opened with openat2(root, parent, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS),
//     so `..` and symlinks, absolute or relative, resolve as if root were "/" (a symlink `a -> /` then a file
//     `a/etc/x` lands in root/etc/x); missing parents are created one component at a time the same way
//   - the final component is a single name (never "", ".", ".." or containing '/'), acted on with *at() calls that do
//     not follow it (O_NOFOLLOW, AT_SYMLINK_NOFOLLOW, mkdirat, symlinkat, mknodat), after unlinking whatever
//     non-directory was there
//   - a hard link's target is opened inside the root too (O_PATH | O_NOFOLLOW) and linked by descriptor
//
// Errors are JavaScript Errors with errno, code, syscall and path set, the message naming the path.
#include "unpack.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "errors.h"
#include "fd.h"
#include "options.h"

namespace minictr {

namespace {

// A failed system call: errno and the path it was about (relative to the layer root).
struct Failure {
  const char* syscall = nullptr;
  std::string path;
  int error = 0;
};

bool Fail(Failure* failure, const char* syscall, const std::string& path) {
  failure->syscall = syscall;
  failure->path = path;
  failure->error = errno;
  return false;
}

std::string Join(const std::string& parent, const std::string& name) {
  return parent.empty() ? name : parent + "/" + name;
}

int OpenInRoot(int root, const std::string& path, uint64_t flags) {
  struct open_how how {};
  how.flags = flags | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  int fd;
  do {
    fd = static_cast<int>(syscall(SYS_openat2, root, path.empty() ? "." : path.c_str(), &how, sizeof how));
  } while (fd < 0 && errno == EINTR);
  return fd;
}

// The directory `parent` inside the root (an O_PATH descriptor), created with mode 0755 where missing, as tar does.
bool OpenParent(int root, const std::string& parent, Fd* out, Failure* failure) {
  int fd = OpenInRoot(root, parent, O_PATH | O_DIRECTORY);
  if (fd >= 0 || errno != ENOENT) {
    out->reset(fd);
    return fd >= 0 || Fail(failure, "openat2", parent);
  }
  // Component by component: each prefix is resolved inside the root, and the next name is made in what it resolved to.
  Fd current(OpenInRoot(root, "", O_PATH | O_DIRECTORY));
  if (current.get() < 0) return Fail(failure, "openat2", ".");
  std::string prefix;
  size_t start = 0;
  while (start < parent.size()) {
    size_t end = parent.find('/', start);
    if (end == std::string::npos) end = parent.size();
    std::string name = parent.substr(start, end - start);
    start = end + 1;
    if (name.empty()) continue;
    prefix = Join(prefix, name);
    int next = OpenInRoot(root, prefix, O_PATH | O_DIRECTORY);
    if (next < 0 && errno == ENOENT) {
      if (mkdirat(current.get(), name.c_str(), 0755) < 0 && errno != EEXIST) return Fail(failure, "mkdirat", prefix);
      next = OpenInRoot(root, prefix, O_PATH | O_DIRECTORY);
    }
    if (next < 0) return Fail(failure, "openat2", prefix);
    current.reset(next);
  }
  out->reset(current.release());
  return true;
}

// Makes room for a new entry: a non-directory there is unlinked; a directory is kept when `keep_directory` (a
// directory entry over a directory updates its metadata), otherwise removed if empty.
bool Clear(int dir, const std::string& name, bool keep_directory, const std::string& path, bool* is_directory,
           Failure* failure) {
  struct stat st {};
  *is_directory = false;
  if (fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) return errno == ENOENT || Fail(failure, "fstatat", path);
  if (S_ISDIR(st.st_mode)) {
    if (keep_directory) {
      *is_directory = true;
      return true;
    }
    return unlinkat(dir, name.c_str(), AT_REMOVEDIR) == 0 || Fail(failure, "rmdir", path);
  }
  return unlinkat(dir, name.c_str(), 0) == 0 || Fail(failure, "unlinkat", path);
}

struct Times {
  bool set = false;
  struct timespec values[2] {};  // atime, mtime
};

struct Entry {
  std::string kind;
  std::string parent;
  std::string name;
  std::string target;
  uint32_t mode = 0;
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint32_t major = 0;
  uint32_t minor = 0;
  Times times;
};

// {atime, mtime}, each {seconds, nanoseconds}; null: leave the times alone.
Times TimesOf(Options& options, const char* key) {
  Times times;
  if (options.IsNull(key)) return times;
  Options both = options.Object(key);
  const char* names[2] = {"atime", "mtime"};
  for (int i = 0; i < 2; i++) {
    Options time = both.Object(names[i]);
    times.values[i].tv_sec = static_cast<time_t>(time.Integer("seconds", -9007199254740991.0, 9007199254740991.0));
    times.values[i].tv_nsec = static_cast<long>(time.Integer("nanoseconds", 0, 999999999));
  }
  times.set = true;
  return times;
}

// The entry's name: one path component (not empty, "." or "..", without '/'), which the *at() calls act on
// without resolving it. This is what confines the write to its parent, so the addon checks it itself.
std::string ComponentOf(Options& options, const char* key) {
  std::string name = options.String(key);
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos) {
    options.Report(key, "one path component (not empty, '.' or '..', without '/')");
  }
  return name;
}


Napi::Value Throw(Napi::Env env, const Failure& failure) {
  Napi::Error error =
      ErrnoError(env, std::string(failure.syscall) + " " + (failure.path.empty() ? "." : failure.path), failure.error);
  error.Set("syscall", Napi::String::New(env, failure.syscall));
  error.Set("path", Napi::String::New(env, failure.path));
  error.ThrowAsJavaScriptException();
  return env.Undefined();
}

bool IsFd(const Napi::Value& value) {
  return value.IsNumber() && value.As<Napi::Number>().DoubleValue() >= 0 &&
         value.As<Napi::Number>().DoubleValue() <= 0x7fffffff;
}

// Owner, mode and times of a node or symlink just made at dir/name (never followed: it is what this call created).
bool SetNodeMetadata(int dir, const Entry& entry, const std::string& path, bool is_symlink, Failure* failure) {
  if (fchownat(dir, entry.name.c_str(), entry.uid, entry.gid, AT_SYMLINK_NOFOLLOW) < 0) {
    return Fail(failure, "fchownat", path);
  }
  if (!is_symlink && fchmodat(dir, entry.name.c_str(), entry.mode, 0) < 0) return Fail(failure, "fchmodat", path);
  if (entry.times.set && utimensat(dir, entry.name.c_str(), entry.times.values, AT_SYMLINK_NOFOLLOW) < 0) {
    return Fail(failure, "utimensat", path);
  }
  return true;
}

// Creates the entry; *fd receives a descriptor for a file or directory, -1 otherwise.
bool Create(int root, const Entry& entry, int* fd, Failure* failure) {
  *fd = -1;
  std::string path = Join(entry.parent, entry.name);
  Fd dir;
  if (!OpenParent(root, entry.parent, &dir, failure)) return false;
  bool directory = entry.kind == "directory";
  bool exists = false;
  if (!Clear(dir.get(), entry.name, directory, path, &exists, failure)) return false;

  if (directory) {
    if (!exists && mkdirat(dir.get(), entry.name.c_str(), 0755) < 0) return Fail(failure, "mkdirat", path);
    *fd = openat(dir.get(), entry.name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    return *fd >= 0 || Fail(failure, "openat", path);
  }
  if (entry.kind == "file") {
    *fd = openat(dir.get(), entry.name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    return *fd >= 0 || Fail(failure, "openat", path);
  }
  if (entry.kind == "symlink") {
    if (symlinkat(entry.target.c_str(), dir.get(), entry.name.c_str()) < 0) return Fail(failure, "symlinkat", path);
    return SetNodeMetadata(dir.get(), entry, path, true, failure);
  }
  if (entry.kind == "link") {
    Fd target(OpenInRoot(root, entry.target, O_PATH | O_NOFOLLOW));
    if (target.get() < 0) return Fail(failure, "openat2", entry.target);
    return linkat(target.get(), "", dir.get(), entry.name.c_str(), AT_EMPTY_PATH) == 0 ||
           Fail(failure, "linkat", path);
  }
  mode_t type = entry.kind == "char" ? S_IFCHR : entry.kind == "block" ? S_IFBLK : S_IFIFO;
  if (mknodat(dir.get(), entry.name.c_str(), type | 0600, makedev(entry.major, entry.minor)) < 0) {
    return Fail(failure, "mknodat", path);
  }
  return SetNodeMetadata(dir.get(), entry, path, false, failure);
}

}  // namespace

Napi::Value UnpackCreate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 2 || !IsFd(info[0]) || !info[1].IsObject()) {
    return ThrowTypeError(env, "unpackCreate(rootFd: number, entry: object)");
  }
  std::string problem;
  Options check(info[1].As<Napi::Object>(), "", &problem);
  Entry entry;
  entry.kind = check.String("kind");
  entry.parent = check.String("parent");
  entry.name = ComponentOf(check, "name");
  entry.mode = static_cast<uint32_t>(check.Integer("mode", 0, 07777));
  entry.uid = static_cast<uint32_t>(check.Integer("uid", 0, kMaxId));
  entry.gid = static_cast<uint32_t>(check.Integer("gid", 0, kMaxId));
  entry.times = TimesOf(check, "times");
  static const char* kinds[] = {"directory", "file", "symlink", "link", "char", "block", "fifo"};
  bool known = false;
  for (const char* kind : kinds) known = known || entry.kind == kind;
  if (!known) check.Report("kind", "directory, file, symlink, link, char, block or fifo");
  if (entry.kind == "symlink" || entry.kind == "link") entry.target = check.String("target");
  if (entry.kind == "char" || entry.kind == "block") {
    entry.major = static_cast<uint32_t>(check.Integer("major", 0, 0xfff));
    entry.minor = static_cast<uint32_t>(check.Integer("minor", 0, 0xfffff));
  }
  if (!problem.empty()) return ThrowTypeError(env, "unpackCreate: " + problem);
  int fd;
  Failure failure;
  if (!Create(info[0].As<Napi::Number>().Int32Value(), entry, &fd, &failure)) return Throw(env, failure);
  return Napi::Number::New(env, fd);
}

Napi::Value UnpackFinish(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 3 || !IsFd(info[0]) || !info[1].IsString() || !info[2].IsObject()) {
    return ThrowTypeError(env, "unpackFinish(fd: number, path: string, meta: object)");
  }
  int fd = info[0].As<Napi::Number>().Int32Value();
  std::string path = info[1].As<Napi::String>().Utf8Value();
  std::string problem;
  Options check(info[2].As<Napi::Object>(), "", &problem);
  // owner {uid, gid} and mode may be null: an opaque marker sets only an xattr on a directory made elsewhere.
  bool set_owner = !check.IsNull("owner");
  bool set_mode = !check.IsNull("mode");
  uint32_t uid = 0, gid = 0, mode = 0;
  if (set_owner) {
    Options owner = check.Object("owner");
    uid = static_cast<uint32_t>(owner.Integer("uid", 0, kMaxId));
    gid = static_cast<uint32_t>(owner.Integer("gid", 0, kMaxId));
  }
  if (set_mode) mode = static_cast<uint32_t>(check.Integer("mode", 0, 07777));
  Times times = TimesOf(check, "times");
  std::vector<std::pair<std::string, std::string>> xattrs;  // name, value
  check.EachObject("xattrs", [&](Options& xattr) {
    std::string name = xattr.String("name");
    xattrs.emplace_back(name, xattr.Buffer("value"));
  });
  if (!problem.empty()) return ThrowTypeError(env, "unpackFinish: " + problem);

  // Owner before mode (chown clears set-id bits) and before xattrs (it clears security.capability); times last.
  Failure failure;
  if (set_owner && fchown(fd, uid, gid) < 0) return Fail(&failure, "fchown", path), Throw(env, failure);
  if (set_mode && fchmod(fd, mode) < 0) return Fail(&failure, "fchmod", path), Throw(env, failure);
  for (const auto& [name, value] : xattrs) {
    if (fsetxattr(fd, name.c_str(), value.data(), value.size(), 0) < 0) {
      return Fail(&failure, "fsetxattr", path + " (" + name + ")"), Throw(env, failure);
    }
  }
  if (times.set && futimens(fd, times.values) < 0) return Fail(&failure, "futimens", path), Throw(env, failure);
  return env.Undefined();
}

Napi::Value UnpackTimes(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 2 || !IsFd(info[0]) || !info[1].IsObject()) {
    return ThrowTypeError(env, "unpackTimes(rootFd: number, entry: {parent, name, times})");
  }
  std::string problem;
  Options check(info[1].As<Napi::Object>(), "", &problem);
  std::string parent = check.String("parent");
  std::string name = ComponentOf(check, "name");
  Times times = TimesOf(check, "times");
  if (!times.set) check.Report("times", "{atime, mtime}");
  if (!problem.empty()) return ThrowTypeError(env, "unpackTimes: " + problem);
  Failure failure;
  int root = info[0].As<Napi::Number>().Int32Value();
  std::string path = Join(parent, name);
  Fd existing(OpenInRoot(root, parent, O_PATH | O_DIRECTORY));
  if (existing.get() < 0) return Fail(&failure, "openat2", parent), Throw(env, failure);
  if (utimensat(existing.get(), name.c_str(), times.values, AT_SYMLINK_NOFOLLOW) < 0) {
    return Fail(&failure, "utimensat", path), Throw(env, failure);
  }
  return env.Undefined();
}

Napi::Value IsOpaqueDirectory(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 1 || !info[0].IsString()) return ThrowTypeError(env, "isOpaqueDirectory(path: string)");
  std::string path = info[0].As<Napi::String>().Utf8Value();
  char value[2] = {0, 0};
  ssize_t length = lgetxattr(path.c_str(), "trusted.overlay.opaque", value, sizeof value);
  if (length < 0 && errno != ENODATA && errno != ENOENT && errno != ENOTSUP) {
    Failure failure;
    return Fail(&failure, "lgetxattr", path), Throw(env, failure);
  }
  return Napi::Boolean::New(env, length == 1 && value[0] == 'y');
}

}  // namespace minictr
