// The container's config from the addon to minictr-init's child mode (child_request.h). One list of fields,
// Transfer, drives both directions, so the encoder and the decoder cannot disagree on the order. Every value is
// written in the machine's own byte order (both ends are this machine): scalars as their bytes, booleans as one
// byte, strings and arrays as a 64-bit count and then their items.
#include "child_request.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <optional>
#include <type_traits>
#include <utility>

#include "seccomp.h"

namespace minictr {

namespace {

class Writer {
 public:
  std::string bytes;

  template <typename T, typename = std::enable_if_t<std::is_arithmetic_v<T>>>
  void Field(T value) {
    if constexpr (std::is_same_v<T, bool>) {
      bytes.push_back(value ? 1 : 0);
    } else {
      bytes.append(reinterpret_cast<const char*>(&value), sizeof value);
    }
  }
  void Field(const std::string& text) {
    Field(static_cast<uint64_t>(text.size()));
    bytes.append(text);
  }
  void Field(const std::optional<std::string>& text) {
    Field(text.has_value());
    if (text) Field(*text);
  }
  template <typename T, size_t N>
  void Field(const T (&array)[N]) {
    static_assert(std::is_arithmetic_v<T> && !std::is_same_v<T, bool>);
    bytes.append(reinterpret_cast<const char*>(array), sizeof array);
  }
  template <typename T>
  void Field(const std::vector<T>& items) {
    Items(items, [&](const T& item) { Field(item); });
  }
  template <typename T, typename Each>
  void Items(const std::vector<T>& items, Each each) {
    Field(static_cast<uint64_t>(items.size()));
    for (const T& item : items) each(item);
  }
};

// Reads what Writer wrote; after the first short or malformed read every read is a no-op and ok() is false.
class Reader {
 public:
  explicit Reader(const std::string& bytes) : bytes_(bytes) {}

  bool ok() const { return ok_ && at_ == bytes_.size(); }

  template <typename T, typename = std::enable_if_t<std::is_arithmetic_v<T>>>
  void Field(T& value) {
    if constexpr (std::is_same_v<T, bool>) {
      uint8_t byte = 0;
      Field(byte);
      if (byte > 1) ok_ = false;
      value = byte == 1;
    } else if (const char* at = Take(sizeof value)) {
      memcpy(&value, at, sizeof value);
    }
  }
  void Field(std::string& text) {
    uint64_t size = 0;
    Field(size);
    const char* at = size <= Remaining() ? Take(static_cast<size_t>(size)) : nullptr;
    if (at != nullptr) text.assign(at, static_cast<size_t>(size));
    else ok_ = false;
  }
  void Field(std::optional<std::string>& text) {
    bool present = false;
    Field(present);
    if (present) Field(text.emplace());
  }
  template <typename T, size_t N>
  void Field(T (&array)[N]) {
    if (const char* at = Take(sizeof array)) memcpy(array, at, sizeof array);
  }
  template <typename T>
  void Field(std::vector<T>& items) {
    Items(items, [&](T& item) { Field(item); });
  }
  // Every item takes at least one byte, which bounds the count before anything is allocated for it.
  template <typename T, typename Each>
  void Items(std::vector<T>& items, Each each) {
    uint64_t count = 0;
    Field(count);
    if (!ok_ || count > Remaining()) {
      ok_ = false;
      return;
    }
    items.resize(static_cast<size_t>(count));
    for (T& item : items) each(item);
  }

 private:
  size_t Remaining() const { return bytes_.size() - at_; }
  // The next `size` bytes, or null (and no longer ok) if there are fewer.
  const char* Take(size_t size) {
    if (!ok_ || size > Remaining()) {
      ok_ = false;
      return nullptr;
    }
    at_ += size;
    return bytes_.data() + at_ - size;
  }

  const std::string& bytes_;
  size_t at_ = 0;
  bool ok_ = true;
};

// Every field the container's first process reads, in one order for both directions. `Request` and `Fds` are
// const for the Writer.
template <typename Io, typename Request, typename Fds>
void Transfer(Io& io, Request& request, Fds& fds) {
  io.Field(request.hostname);
  io.Field(request.configure_interface);
  io.Field(request.ifname);
  io.Field(request.address);
  io.Field(request.netmask);
  io.Field(request.gateway);
  io.Field(request.configure_ipv6);
  io.Field(request.address6);
  io.Field(request.prefix6);
  io.Field(request.gateway6);
  auto& overlay = request.overlay;
  io.Field(overlay.target);
  io.Field(overlay.lower);
  io.Field(overlay.upper);
  io.Field(overlay.work);
  io.Field(overlay.volatile_upper);
  io.Field(overlay.lowerdir_plus);
  io.Field(overlay.options);
  io.Items(request.etc_files, [&](auto& file) {
    io.Field(file.first);
    io.Field(file.second);
  });
  io.Items(request.devices, [&](auto& device) {
    io.Field(device.path);
    io.Field(device.block);
    io.Field(device.major);
    io.Field(device.minor);
    io.Field(device.mode);
  });
  io.Items(request.mounts, [&](auto& mount) {
    io.Field(mount.kind);
    io.Field(mount.source);
    io.Field(mount.target);
    io.Field(mount.read_only);
    io.Field(mount.data);
  });
  io.Field(request.workdir);
  io.Field(request.privileged);
  io.Field(request.capabilities);
  io.Field(request.read_only);
  io.Field(request.switch_user);
  io.Field(request.uid);
  io.Field(request.gid);
  io.Field(request.exec_path);
  io.Field(request.argv);
  io.Field(request.env);
  io.Field(request.init);
  io.Field(request.rows);
  io.Field(request.columns);
  io.Field(request.cgroup_tasks);
  io.Field(fds.release);
  io.Field(fds.error);
  io.Field(fds.console);
  io.Field(fds.stdio);
}

}  // namespace

std::vector<char*> PointerArray(const std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  pointers.reserve(strings.size() + 1);
  for (const std::string& s : strings) pointers.push_back(const_cast<char*>(s.c_str()));
  pointers.push_back(nullptr);
  return pointers;
}

std::string EncodeChildRequest(const SpawnRequest& request, const ChildFds& fds) {
  Writer writer;
  Transfer(writer, request, fds);
  return std::move(writer.bytes);
}

bool DecodeChildRequest(const std::string& bytes, SpawnRequest* request, ChildFds* fds) {
  Reader reader(bytes);
  Transfer(reader, *request, *fds);
  if (!reader.ok()) errno = EINVAL;
  return reader.ok();
}

bool SetCgroupTasks(const SpawnRequest& request, CgroupTasks* tasks) {
  if (request.cgroup_tasks.size() > kMaxCgroupTasks) return errno = E2BIG, false;
  tasks->count = 0;
  for (int fd : request.cgroup_tasks) tasks->fds[tasks->count++] = fd;
  return true;
}

PreparedChild::PreparedChild(const SpawnRequest& request, const ChildFds& fds)
    : argv(PointerArray(request.argv)),
      envp_(PointerArray(request.env)),
      workdir_(request.workdir.begin(), request.workdir.end()),
      seccomp_(request.privileged, request.capabilities) {
  // 1. The process: descriptors, identity, security profile, terminal.
  config.release_fd = fds.release;
  config.error_fd = fds.error;
  config.foreign_fd_count = 0;  // the exec into minictr-init closed the other processes' ends (close-on-exec)
  for (int fd = 0; fd <= 2; fd++) config.stdio[fd] = fds.stdio[fd];
  config.console_fd = fds.console;
  config.rows = request.rows;
  config.columns = request.columns;
  workdir_.push_back('\0');
  config.workdir = workdir_.data();
  config.privileged = request.privileged;
  config.capabilities = request.capabilities;
  config.seccomp = seccomp_.get();
  config.switch_user = request.switch_user;
  config.uid = request.uid;
  config.gid = request.gid;
  config.envp = envp_.data();
  config.read_only = request.read_only;
  SetCgroupTasks(request, &config.cgroup_tasks);  // the addon refused more than it holds
  config.helper_fd = -1;  // the command is exec'd from here: this process is minictr-init's sealed copy already
  config.helper_argv = nullptr;

  // 2. The container: hostname, network, root, files, devices, volumes.
  config.hostname = request.hostname.c_str();
  config.configure_interface = request.configure_interface;
  config.ifname = request.ifname.c_str();
  config.address = request.address;
  config.netmask = request.netmask;
  config.gateway = request.gateway;
  config.configure_ipv6 = request.configure_ipv6;
  memcpy(config.address6, request.address6, sizeof config.address6);
  config.prefix6 = request.prefix6;
  memcpy(config.gateway6, request.gateway6, sizeof config.gateway6);
  const auto& overlay = request.overlay;
  for (const std::string& layer : overlay.lower) lower_.push_back(layer.c_str());
  config.overlay = OverlayConfig{overlay.target.c_str(), lower_.data(), lower_.size(), overlay.upper.c_str(),
                                 overlay.work.c_str(), overlay.volatile_upper, overlay.lowerdir_plus,
                                 overlay.options ? overlay.options->c_str() : nullptr};
  for (const auto& [path, content] : request.etc_files) {
    etc_files_.push_back(EtcFile{path.c_str(), content.c_str(), content.size()});
  }
  config.etc_files = etc_files_.data();
  config.etc_file_count = etc_files_.size();
  for (const auto& device : request.devices) device_paths_.push_back(device.path);
  for (size_t i = 0; i < request.devices.size(); i++) {
    const auto& device = request.devices[i];
    mode_t mode = (device.block ? S_IFBLK : S_IFCHR) | device.mode;
    devices_.push_back(DeviceNodeConfig{device_paths_[i].data(), mode, makedev(device.major, device.minor)});
  }
  config.devices = devices_.data();
  config.device_count = devices_.size();
  for (const auto& mount : request.mounts) {
    mounts_.push_back(MountConfig{mount.kind, mount.source.c_str(), mount.target.c_str(), mount.read_only,
                                  mount.data.c_str()});
  }
  config.mounts = mounts_.data();
  config.mount_count = mounts_.size();
}

}  // namespace minictr
