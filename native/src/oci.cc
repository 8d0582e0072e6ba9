// minictr-oci's container process (see oci.h): the intermediate that joins namespaces by path, and the child that
// builds the container from config.json and waits for `start`.
//
// The child runs the steps of child.cc's RunChild that a bundle asks for, in runc's order, and shares its helpers
// (release, session and terminal, pivot_root, device nodes, stdio, the exec through minictr-init's sealed copy) and
// mounts.cc's race-free mounting. What differs is data: the mounts, masked and read-only paths, capability sets,
// rlimits and sysctls come from the config, not from minictr's defaults. The same rules hold: between clone() and
// execve() only system calls and memory prepared before the clone.
#include "oci.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "child.h"
#include "fd.h"
#include "io.h"

namespace minictr {

namespace {

struct OciChildConfig : ChildConfig {
  const char* root;
  unsigned long root_propagation;
  const gid_t* groups;
  size_t group_count;
  uint64_t bounding, effective, permitted, inheritable, ambient;
  bool no_new_privileges;
  const char* const* masked;
  size_t masked_count;
  const char* const* readonly;
  size_t readonly_count;
  const char* const* sysctl_paths;
  const char* const* sysctl_values;
  size_t sysctl_count;
  const OciRequest::Rlimit* rlimits;
  size_t rlimit_count;
  int fifo_fd;
  int preserve_fds;
  bool user_namespace;  // new or joined: the child becomes its root before building the container
  bool dev_links;
};

// The links runc makes in every container's /dev (the spec's "default devices" section); one already there stays.
constexpr const char* kDevLinks[][2] = {
    {"pts/ptmx", "/dev/ptmx"},          {"/proc/self/fd", "/dev/fd"},      {"/proc/self/fd/0", "/dev/stdin"},
    {"/proc/self/fd/1", "/dev/stdout"}, {"/proc/self/fd/2", "/dev/stderr"},
};

bool WriteValue(const char* path, const char* value) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = WriteFully(fd, value, strlen(value));
  int saved = errno;
  close(fd);
  errno = saved;
  return ok;
}

// maskedPaths: /dev/null over a file, an empty read-only tmpfs over a directory; readonlyPaths: a read-only bind of
// the path on itself. A path this kernel lacks is skipped, as runc does.
bool MaskAndFreeze(const OciChildConfig& config) {
  for (size_t i = 0; i < config.masked_count; i++) {
    if (!MaskPath(config.masked[i])) return false;
  }
  for (size_t i = 0; i < config.readonly_count; i++) {
    if (!FreezePath(config.readonly[i])) return false;
  }
  return true;
}

bool SetCapabilitySets(const OciChildConfig& config) {
  struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2];
  memset(data, 0, sizeof data);
  for (int word = 0; word < 2; word++) {
    data[word].effective = static_cast<uint32_t>(config.effective >> (32 * word));
    data[word].permitted = static_cast<uint32_t>(config.permitted >> (32 * word));
    data[word].inheritable = static_cast<uint32_t>(config.inheritable >> (32 * word));
  }
  return syscall(SYS_capset, &header, data) == 0;
}

bool InstallSeccomp(const OciChildConfig& config) {
  return config.seccomp == nullptr || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, config.seccomp, 0, 0) == 0;
}

// The process part, in runc's order: seccomp first when no_new_privs is off (installing it then needs
// CAP_SYS_ADMIN, still held); the bounding set; the user (capabilities kept across the switch, as the config gives
// them for any user); the capability sets and ambient ones; no_new_privs and then seccomp when it is on. Raw
// system calls for the ids: see SwitchUser in child.cc.
int32_t ApplyOciProfile(const OciChildConfig& config) {
  if (!config.no_new_privileges && !InstallSeccomp(config)) return kStepSeccomp;
  for (int cap = 0; cap < 64; cap++) {
    if ((config.bounding >> cap) & 1) continue;
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL) return kStepCapabilities;
  }
  if (config.switch_user) {
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0 ||
        syscall(SYS_setgroups, config.group_count, config.groups) < 0 ||
        syscall(SYS_setresgid, config.gid, config.gid, config.gid) < 0 ||
        syscall(SYS_setresuid, config.uid, config.uid, config.uid) < 0 || prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0) {
      return kStepUser;
    }
  }
  if (!SetCapabilitySets(config)) return kStepCapabilities;
  for (int cap = 0; cap < 64; cap++) {
    if (((config.ambient >> cap) & 1) == 0) continue;
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0) return kStepCapabilities;
  }
  if (config.no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) return kStepCapabilities;
  if (config.no_new_privileges && !InstallSeccomp(config)) return kStepSeccomp;
  return 0;
}

// Tells `create` the container is built ({0, 0} on the error pipe), then blocks opening the exec FIFO for writing
// until `start` opens it for reading (runc's exec.fifo). It was opened O_PATH in the host before the clone; /proc
// of the container (a config without one cannot be started, as with runc) reopens it.
void AwaitStart(const OciChildConfig& config) {
  ReportStep(config.error_fd, 0, 0);
  char path[32];
  NumberedPath("/proc/self/fd/", static_cast<unsigned>(config.fifo_fd), path);
  int fifo = open(path, O_WRONLY | O_CLOEXEC);
  if (fifo < 0 || !WriteFully(fifo, "0", 1)) FailStep(config, kStepExecFifo);  // nobody reads the report now
  close(fifo);
  close(config.fifo_fd);
}

[[noreturn]] void RunOciChild(const OciChildConfig& config) {
  // 0-1. As RunChild (AwaitRelease), but without the parent-death signal: the parent is the intermediate, which
  //      exits at once, and the container outlives `create`.
  //      First, as RunChild, into its cgroups (v1): `create` returns with the process in them.
  if (!EnterCgroups(config.cgroup_tasks)) FailStep(config, kStepJoinCgroup);
  AwaitRelease(config, false);

  // 1b. In a user namespace (its maps written by the caller before the release, or joined by path) the child still
  //     has the caller's ids, which it does not map: it becomes the namespace's root, as runc does, so that what it
  //     creates has mapped owners. Its capabilities stay (a change of euid to the namespace's root keeps them).
  //     setgroups is refused where the caller wrote "deny" to /proc/PID/setgroups; that is not an error.
  if (config.user_namespace) {
    syscall(SYS_setgroups, 0, nullptr);
    if (syscall(SYS_setresgid, 0, 0, 0) < 0 || syscall(SYS_setresuid, 0, 0, 0) < 0) FailStep(config, kStepUser);
  }

  // 2. Hostname, when the config gives one.
  if (config.hostname[0] != '\0' && sethostname(config.hostname, strlen(config.hostname)) < 0) {
    FailStep(config, kStepHostname);
  }

  // 3. Nothing mounted from here on reaches the caller's tree: everything private (pivot_root also refuses shared
  //    mounts); the root bound on itself, so that it is a mount point pivot_root accepts. rootfsPropagation is
  //    applied to the new root once the old one is gone (step 4).
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0) FailStep(config, kStepMountPrivate);
  if (mount(config.root, config.root, nullptr, MS_BIND | MS_REC, nullptr) < 0) FailStep(config, kStepOverlay);

  // 4. config.json's mounts, in order, each target resolved inside the root (mounts.cc), then pivot_root.
  if (!MountVolumes(config.root, config.mounts, config.mount_count)) FailStep(config, kStepVolumes);
  if (!PivotInto(config.root)) FailStep(config, kStepPivotRoot);
  if (config.root_propagation != (MS_REC | MS_PRIVATE) && mount(nullptr, "/", nullptr, config.root_propagation, nullptr) < 0) {
    FailStep(config, kStepMountPrivate);
  }

  // 5. Device nodes (the spec's defaults and linux.devices, as src/oci/config.ts lists them; in a user namespace,
  //    where mknod of a device is refused, those are binds among the mounts) and /dev's links.
  for (size_t i = 0; i < config.device_count; i++) {
    if (!MakeDeviceNode(config.devices[i])) FailStep(config, kStepDevices);
  }
  if (config.dev_links) {
    for (const auto& link : kDevLinks) {
      if (symlink(link[0], link[1]) < 0 && errno != EEXIST) FailStep(config, kStepDevices);
    }
  }

  // 6. linux.sysctl, then maskedPaths and readonlyPaths (which may freeze /proc/sys).
  for (size_t i = 0; i < config.sysctl_count; i++) {
    if (!WriteValue(config.sysctl_paths[i], config.sysctl_values[i])) FailStep(config, kStepSysctl);
  }
  if (!MaskAndFreeze(config)) FailStep(config, kStepMaskPaths);

  // 7. Working directory, session and terminal, read-only root, rlimits.
  if (!MakeDirectories(config.workdir) || chdir(config.workdir) < 0) FailStep(config, kStepWorkdir);
  int stdio[3];
  EnterSession(config, stdio);
  if (config.read_only && mount(nullptr, "/", nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr) < 0) {
    FailStep(config, kStepReadOnlyRoot);
  }
  for (size_t i = 0; i < config.rlimit_count; i++) {
    struct rlimit limit = {config.rlimits[i].soft, config.rlimits[i].hard};
    if (syscall(SYS_prlimit64, 0, config.rlimits[i].resource, &limit, nullptr) < 0) FailStep(config, kStepRlimits);
  }

  // 8. Built: wait for `start`, then the process profile and the exec through minictr-init's sealed copy. The
  //    preserved descriptors (--preserve-fds) stay open across it.
  AwaitStart(config);
  int32_t step = ApplyOciProfile(config);
  if (step != 0) FailStep(config, step);
  PrepareExec(config, stdio);
  for (int fd = 3; fd < 3 + config.preserve_fds; fd++) fcntl(fd, F_SETFD, 0);
  fcntl(config.error_fd, F_SETFD, 0);
  syscall(SYS_execveat, config.helper_fd, "", config.helper_argv, config.envp, AT_EMPTY_PATH);
  FailStep(config, kStepInit);
}

// setns() order: the user namespace first (the others joined are then its own), the mount namespace last (it
// changes root and cwd).
constexpr int kJoinOrder[] = {CLONE_NEWUSER, CLONE_NEWIPC,    CLONE_NEWUTS, CLONE_NEWNET,
                              CLONE_NEWPID,  CLONE_NEWCGROUP, CLONE_NEWNS};

// The intermediate: joins the namespaces given by path (single-threaded here, unlike Node), clones the container
// into the new ones (and on cgroup v2 into its cgroup, `cgroup_dir`), reports {pid, 0} or {-step, errno} and exits,
// orphaning the container.
[[noreturn]] void RunIntermediate(const OciChildConfig& config, uint64_t flags, int cgroup_dir, const int* join_types,
                                  const int* join_fds, size_t join_count, int report_fd) {
  for (int type : kJoinOrder) {
    for (size_t i = 0; i < join_count; i++) {
      if (join_types[i] != type || setns(join_fds[i], type) == 0) continue;
      int32_t report[2] = {-kStepNamespaces, errno};
      WriteFully(report_fd, report, sizeof report);
      _exit(1);
    }
  }
  long pid = CloneProcess(flags, nullptr, cgroup_dir);
  if (pid == 0) RunOciChild(config);
  int32_t report[2] = {pid < 0 ? -kStepRelease : static_cast<int32_t>(pid), pid < 0 ? errno : 0};
  WriteFully(report_fd, report, sizeof report);
  _exit(0);
}

std::vector<char*> PointerArray(const std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  for (const std::string& s : strings) pointers.push_back(const_cast<char*>(s.c_str()));
  pointers.push_back(nullptr);
  return pointers;
}

std::vector<const char*> CStrings(const std::vector<std::string>& strings) {
  std::vector<const char*> pointers;
  for (const std::string& s : strings) pointers.push_back(s.c_str());
  return pointers;
}

// A mount namespace the container must not join: the caller's own or pid 1's (the host's), where the container's
// mounts and pivot_root would change the host's tree. Compared by the descriptor already opened, so the check and
// the setns() see the same namespace. Where pid 1's cannot be read (a sandbox hiding it), only the caller's is known.
bool IsHostMountNamespace(int fd) {
  struct stat joined, own, init;
  if (fstat(fd, &joined) < 0 || stat("/proc/self/ns/mnt", &own) < 0) return true;
  auto same = [&](const struct stat& info) { return info.st_dev == joined.st_dev && info.st_ino == joined.st_ino; };
  return same(own) || (stat("/proc/1/ns/mnt", &init) == 0 && same(init));
}

}  // namespace

Fd ConnectConsole(const std::string& path) {
  struct sockaddr_un address;
  memset(&address, 0, sizeof address);
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof address.sun_path) return errno = ENAMETOOLONG, Fd();
  memcpy(address.sun_path, path.c_str(), path.size());
  Fd socket_fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!socket_fd.valid()) return Fd();
  if (connect(socket_fd.get(), reinterpret_cast<struct sockaddr*>(&address), sizeof address) < 0) return Fd();
  return socket_fd;
}

int SpawnOci(const OciRequest& request, SpawnResult* result, const char** what) {
  auto fail = [&](const char* call) {
    *what = call;
    return errno;
  };
  const SpawnRequest& process = request.process;
  // 1. Every string as the plain pointers the child uses; nothing is allocated after the clone.
  OciChildConfig config{};
  std::vector<char*> envp = PointerArray(process.env);
  std::vector<char> workdir(process.workdir.begin(), process.workdir.end());
  workdir.push_back('\0');
  std::vector<std::string> device_paths;
  for (const auto& device : process.devices) device_paths.push_back(device.path);
  std::vector<DeviceNodeConfig> devices;
  for (size_t i = 0; i < process.devices.size(); i++) {
    const auto& device = process.devices[i];
    mode_t mode = (device.fifo ? S_IFIFO : device.block ? S_IFBLK : S_IFCHR) | device.mode;
    devices.push_back(DeviceNodeConfig{device_paths[i].data(), mode, makedev(device.major, device.minor)});
  }
  std::vector<MountConfig> mounts;
  for (const auto& mount : request.mounts) {
    mounts.push_back(MountConfig{kMountOci, mount.source.c_str(), mount.target.c_str(), false, mount.data.c_str(),
                                 mount.fstype.c_str(), mount.flags, mount.propagation});
  }
  std::vector<const char*> masked = CStrings(request.masked_paths);
  std::vector<const char*> readonly = CStrings(request.readonly_paths);
  std::vector<std::string> sysctl_paths, sysctl_values;
  for (const auto& [path, value] : request.sysctl) {
    sysctl_paths.push_back(path);
    sysctl_values.push_back(value);
  }
  std::vector<const char*> sysctl_path_pointers = CStrings(sysctl_paths);
  std::vector<const char*> sysctl_value_pointers = CStrings(sysctl_values);
  std::vector<gid_t> groups(request.additional_gids.begin(), request.additional_gids.end());
  std::vector<sock_filter> filter(request.seccomp.size() / sizeof(sock_filter));
  memcpy(filter.data(), request.seccomp.data(), filter.size() * sizeof(sock_filter));
  sock_fprog seccomp{static_cast<unsigned short>(filter.size()), filter.data()};

  config.workdir = workdir.data();
  config.envp = envp.data();
  config.seccomp = filter.empty() ? nullptr : &seccomp;
  config.read_only = process.read_only;
  config.switch_user = process.switch_user;
  config.uid = process.uid;
  config.gid = process.gid;
  config.hostname = process.hostname.c_str();
  config.devices = devices.data();
  config.device_count = devices.size();
  config.mounts = mounts.data();
  config.mount_count = mounts.size();
  config.root = request.root.c_str();
  config.root_propagation = request.root_propagation;
  config.groups = groups.data();
  config.group_count = groups.size();
  config.bounding = request.bounding;
  config.effective = request.effective;
  config.permitted = request.permitted;
  config.inheritable = request.inheritable;
  config.ambient = request.ambient;
  config.no_new_privileges = request.no_new_privileges;
  config.masked = masked.data();
  config.masked_count = masked.size();
  config.readonly = readonly.data();
  config.readonly_count = readonly.size();
  config.sysctl_paths = sysctl_path_pointers.data();
  config.sysctl_values = sysctl_value_pointers.data();
  config.sysctl_count = sysctl_paths.size();
  config.rlimits = request.rlimits.data();
  config.rlimit_count = request.rlimits.size();
  config.preserve_fds = request.preserve_fds;
  config.dev_links = request.dev_links;
  config.user_namespace = (request.clone_flags & CLONE_NEWUSER) != 0;
  for (const auto& joined : request.joined) config.user_namespace |= joined.first == CLONE_NEWUSER;
  config.rows = process.rows;
  config.columns = process.columns;
  for (int& fd : config.stdio) fd = -1;

  // 2. Descriptors: pipes (release, error, the intermediate's report), the exec FIFO (O_PATH), the namespaces to
  //    join, the console socket, minictr-init's sealed copy. What is not handed over closes as this returns.
  Pipe release, error, report;
  if (!release.Open() || !error.Open() || !report.Open()) return fail("pipe2");
  Fd fifo(open(request.exec_fifo.c_str(), O_PATH | O_CLOEXEC));
  if (!fifo.valid()) return fail("open the exec fifo");
  std::vector<Fd> join_fds;
  std::vector<int> join_numbers, join_types;
  for (const auto& [type, path] : request.joined) {
    join_fds.emplace_back(open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!join_fds.back().valid()) return fail("open a namespace path");
    if (type == CLONE_NEWNS && IsHostMountNamespace(join_fds.back().get())) {
      errno = EPERM;
      return fail("join a mount namespace (it is minictr-oci's own or pid 1's: pivot_root would move its root)");
    }
    join_numbers.push_back(join_fds.back().get());
    join_types.push_back(type);
  }
  Fd console;
  if (!request.console_socket.empty()) {
    console = ConnectConsole(request.console_socket);
    if (!console.valid()) return fail("connect to the console socket");
  }
  Fd helper = SealedCopy(process.helper_path.c_str());
  if (!helper.valid()) return fail("copy minictr-init into a sealed memfd");
  std::vector<std::string> helper_strings = {"minictr-init", "exec", std::to_string(error.write.get()),
                                             process.exec_path};
  helper_strings.insert(helper_strings.end(), process.argv.begin(), process.argv.end());
  std::vector<char*> helper_argv = PointerArray(helper_strings);
  config.helper_fd = helper.get();
  config.helper_argv = helper_argv.data();
  config.release_fd = release.read.get();
  config.error_fd = error.write.get();
  config.console_fd = console.valid() ? console.get() : -1;
  config.fifo_fd = fifo.get();
  for (const Fd* theirs : {&release.write, &error.read, &report.read, &report.write}) {
    config.foreign_fds[config.foreign_fd_count++] = theirs->get();
  }
  if (!SetCgroupTasks(process, &config.cgroup_tasks)) return fail("join the container's cgroup");
  if (process.cgroup_dir >= 0) config.foreign_fds[config.foreign_fd_count++] = process.cgroup_dir;

  // 3. The intermediate (see RunIntermediate), all signals blocked across the clone as in Spawn.
  long intermediate;
  {
    SignalsBlocked blocked;
    intermediate = CloneProcess(0, nullptr);
    if (intermediate == 0) {
      RunIntermediate(config, request.clone_flags, process.cgroup_dir, join_types.data(), join_numbers.data(),
                      join_numbers.size(), report.write.get());
    }
  }
  if (intermediate < 0) return fail("clone3");
  report.write.reset();
  while (waitpid(static_cast<pid_t>(intermediate), nullptr, 0) < 0 && errno == EINTR) {
  }
  int32_t outcome[2] = {-kStepRelease, EPIPE};
  ReadFully(report.read.get(), outcome, sizeof outcome);
  if (outcome[0] <= 0) {
    errno = outcome[1];
    return fail(outcome[0] == -kStepNamespaces ? ChildStepName(kStepNamespaces) : CloneCallName(process.cgroup_dir));
  }
  result->pid = outcome[0];
  result->release_fd = release.write.release();
  result->error_fd = error.read.release();
  return 0;
}

}  // namespace minictr
