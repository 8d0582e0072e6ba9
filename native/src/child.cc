// The container's first process from its release to the command's exec (RunChild), which runs in minictr-init's
// child mode (init.cc) once the addon's clone has exec'd it (child_exec.cc), and the steps it shares with `minictr
// exec`'s process (join.cc) and minictr-oci's child (oci.cc): release, session and terminal, security profile, stdio.
//
// minictr-oci's child is a copy of one thread of Node, which is multithreaded: other threads may have held locks
// (malloc, stdio) at the instant of its clone. The steps here therefore make only system calls and touch only
// memory prepared before they run: no allocation, no stdio, no C++ runtime. Each step either succeeds or reports
// {step, errno} on the close-on-exec error pipe and exits; a successful execve() closes that pipe, which is how the
// parent learns the command started.
#include "child.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <linux/close_range.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <signal.h>
#include <grp.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "fd_passing.h"
#include "io.h"

namespace minictr {

namespace {

bool MkdirIfMissing(const char* path, mode_t mode) { return mkdir(path, mode) == 0 || errno == EEXIST; }

// A directory to mount on or write into, made where missing. A symlink there is refused (ELOOP), not followed:
// validation refused such a rootfs already (src/container/rootfs.ts), and nothing else runs in the container yet to
// put one there since, so this only keeps the child from mounting elsewhere should that check ever be skipped.
bool MountPoint(const char* path, mode_t mode) {
  if (mkdir(path, mode) == 0) return true;
  struct stat info;
  if (errno != EEXIST || lstat(path, &info) < 0) return false;
  if (S_ISDIR(info.st_mode)) return true;
  errno = S_ISLNK(info.st_mode) ? ELOOP : ENOTDIR;
  return false;
}

// mkdir -p on the writable buffer `path`, cutting it at each '/' in turn.
bool MkdirAll(char* path) {
  for (char* p = path + 1; *p != '\0'; p++) {
    if (*p != '/') continue;
    *p = '\0';
    bool ok = MkdirIfMissing(path, 0755);
    *p = '/';
    if (!ok) return false;
  }
  return MkdirIfMissing(path, 0755);
}

bool SetFlagsUp(int sock, const char* ifname) {
  struct ifreq request;
  memset(&request, 0, sizeof request);
  strncpy(request.ifr_name, ifname, IFNAMSIZ - 1);
  if (ioctl(sock, SIOCGIFFLAGS, &request) < 0) return false;
  request.ifr_flags |= IFF_UP;
  return ioctl(sock, SIOCSIFFLAGS, &request) == 0;
}

void SetIpv4(struct sockaddr* target, uint32_t address) {
  struct sockaddr_in ipv4;
  memset(&ipv4, 0, sizeof ipv4);
  ipv4.sin_family = AF_INET;
  ipv4.sin_addr.s_addr = address;
  memcpy(target, &ipv4, sizeof ipv4);
}

// Writes "0" to /proc/sys/net/ipv6/conf/<ifname>/<setting>. The file is looked up in the writer's own network
// namespace, whichever /proc it is opened through. Absent (IPv6 disabled on this kernel): nothing to turn off.
bool ZeroIpv6Setting(const char* ifname, const char* setting) {
  char path[96] = "/proc/sys/net/ipv6/conf/";
  size_t length = strlen(path);
  const char* parts[] = {ifname, "/", setting};
  for (const char* part : parts) {
    size_t part_length = strlen(part);
    if (length + part_length >= sizeof path) return false;
    memcpy(path + length, part, part_length + 1);
    length += part_length;
  }
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno == ENOENT;
  bool written = write(fd, "0", 1) == 1;
  close(fd);
  return written;
}

// The interface's address and netmask, and up. Before it is up: no router advertisement is ever accepted and no
// address autoconfigured, as Docker sets, so no container learns IPv6 routes from another (CVE-2020-13401); on a
// dual-stack network, no duplicate address detection either: the addresses (the network's lease, and the
// link-local one made as the link comes up) are usable at once, not "tentative" for a second when the command starts.
bool ConfigureInterface(int sock, const ChildConfig& config) {
  if (!ZeroIpv6Setting(config.ifname, "accept_ra") || !ZeroIpv6Setting(config.ifname, "autoconf")) return false;
  if (config.configure_ipv6 && !ZeroIpv6Setting(config.ifname, "accept_dad")) return false;
  struct ifreq request;
  memset(&request, 0, sizeof request);
  strncpy(request.ifr_name, config.ifname, IFNAMSIZ - 1);
  SetIpv4(&request.ifr_addr, config.address);
  if (ioctl(sock, SIOCSIFADDR, &request) < 0) return false;
  SetIpv4(&request.ifr_netmask, config.netmask);
  if (ioctl(sock, SIOCSIFNETMASK, &request) < 0) return false;
  return SetFlagsUp(sock, config.ifname);
}

bool AddDefaultRoute(int sock, const ChildConfig& config) {
  struct rtentry route;
  memset(&route, 0, sizeof route);
  SetIpv4(&route.rt_dst, 0);
  SetIpv4(&route.rt_genmask, 0);
  SetIpv4(&route.rt_gateway, config.gateway);
  route.rt_flags = RTF_UP | RTF_GATEWAY;
  route.rt_dev = const_cast<char*>(config.ifname);
  return ioctl(sock, SIOCADDRT, &route) == 0;
}

// The kernel's struct in6_ifreq (linux/ipv6.h, which clashes with netinet/in.h): SIOCSIFADDR's argument on an
// AF_INET6 socket.
struct Ipv6InterfaceRequest {
  struct in6_addr address;
  uint32_t prefix_length;
  int ifindex;
};

// A dual-stack network's address on the container's interface (already up, without DAD: ConfigureInterface), then
// the default route through the bridge's IPv6 gateway.
bool ConfigureIpv6(const ChildConfig& config) {
  int sock = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock < 0) return false;
  struct ifreq index_request;
  memset(&index_request, 0, sizeof index_request);
  strncpy(index_request.ifr_name, config.ifname, IFNAMSIZ - 1);
  bool ok = ioctl(sock, SIOCGIFINDEX, &index_request) == 0;
  if (ok) {
    Ipv6InterfaceRequest request;
    memset(&request, 0, sizeof request);
    memcpy(&request.address, config.address6, sizeof config.address6);
    request.prefix_length = config.prefix6;
    request.ifindex = index_request.ifr_ifindex;
    ok = ioctl(sock, SIOCSIFADDR, &request) == 0;
  }
  if (ok) {
    struct in6_rtmsg route;
    memset(&route, 0, sizeof route);
    memcpy(&route.rtmsg_gateway, config.gateway6, sizeof config.gateway6);
    route.rtmsg_flags = RTF_UP | RTF_GATEWAY;
    route.rtmsg_metric = 1;
    route.rtmsg_ifindex = index_request.ifr_ifindex;
    ok = ioctl(sock, SIOCADDRT, &route) == 0;
  }
  close(sock);
  return ok;
}

// pivot_root(".", ".") stacks the old root on top of the new one; detaching it leaves only the container's tree
// (the approach of runc and crun, which needs no directory for the old root inside the image).
bool PivotRoot(const char* new_root) {
  if (chdir(new_root) < 0) return false;
  if (syscall(SYS_pivot_root, ".", ".") < 0) return false;
  if (umount2(".", MNT_DETACH) < 0) return false;
  return chdir("/") == 0;
}

struct DeviceNode {
  const char* path;
  unsigned major;
  unsigned minor;
};

constexpr DeviceNode kDevices[] = {
    {"/dev/null", 1, 3},   {"/dev/zero", 1, 5},    {"/dev/full", 1, 7},
    {"/dev/random", 1, 8}, {"/dev/urandom", 1, 9}, {"/dev/tty", 5, 0},
};

struct Symlink {
  const char* target;
  const char* path;
};

constexpr Symlink kDevLinks[] = {
    {"pts/ptmx", "/dev/ptmx"},         {"/proc/self/fd", "/dev/fd"},     {"/proc/self/fd/0", "/dev/stdin"},
    {"/proc/self/fd/1", "/dev/stdout"}, {"/proc/self/fd/2", "/dev/stderr"},
};

bool MountDev() {
  if (!MountPoint("/dev", 0755)) return false;
  if (mount("tmpfs", "/dev", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k") < 0) return false;
  mode_t saved = umask(0);
  bool ok = true;
  for (const DeviceNode& device : kDevices) {
    ok = ok && mknod(device.path, S_IFCHR | 0666, makedev(device.major, device.minor)) == 0;
  }
  umask(saved);
  if (!ok) return false;
  for (const Symlink& link : kDevLinks) {
    if (symlink(link.target, link.path) < 0) return false;
  }
  if (mkdir("/dev/pts", 0755) < 0 || mkdir("/dev/shm", 01777) < 0) return false;
  if (mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620,gid=5") < 0) {
    return false;
  }
  return mount("shm", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=65536k") == 0;
}

// --device: the node, in directories created as needed (/dev/net/tun), with the host node's permission bits. It
// replaces a default node of the same name (--device /dev/zero).
bool CreateDeviceNode(const DeviceNodeConfig& device) {
  char* slash = strrchr(device.path, '/');
  if (slash == nullptr || slash == device.path) return errno = EINVAL, false;  // devices.ts gives "/dev/..."
  *slash = '\0';
  bool parents = strcmp(device.path, "/dev") == 0 || MkdirAll(device.path);
  *slash = '/';
  if (!parents || (unlink(device.path) < 0 && errno != ENOENT)) return false;
  mode_t saved = umask(0);
  bool ok = mknod(device.path, device.mode, device.device) == 0;
  umask(saved);
  return ok;
}

// Replaces the file, including a symlink (images often point resolv.conf at a path that does not exist here).
bool WriteEtcFile(const EtcFile& file) {
  if (unlink(file.path) < 0 && errno != ENOENT) return false;
  int fd = open(file.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  bool ok = WriteFully(fd, file.content, file.length);
  close(fd);
  return ok;
}

// stdin, stdout and stderr: the given descriptors (a log pipe, a terminal), or minictr's own where -1, minus what
// Node set on them for itself: close-on-exec (it would close them at execve) and O_NONBLOCK (most programs expect
// blocking stdio; see also src/cli.ts).
bool PrepareStdio(const int (&stdio)[3]) {
  for (int fd = 0; fd <= 2; fd++) {
    if (stdio[fd] >= 0 && dup2(stdio[fd], fd) < 0) return false;
    fcntl(fd, F_SETFD, 0);
    int flags = fcntl(fd, F_GETFL);
    if (flags >= 0 && (flags & O_NONBLOCK) != 0) fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  }
  return true;
}

// -t: a pseudo-terminal from the container's own devpts instance, as runc does with its console socket, so that
// inside, `tty` says /dev/pts/0 and the device exists. The replica becomes the controlling terminal of this session
// (and, with --user, the user's); the controller goes to minictr over the console socket. Returns the replica.
int OpenTerminal(const ProcessConfig& config) {
  int controller = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (controller < 0) return -1;
  int unlock = 0;
  unsigned number = 0;
  char path[32];
  int replica = -1;
  struct winsize size;
  memset(&size, 0, sizeof size);
  size.ws_row = config.rows;
  size.ws_col = config.columns;
  if (ioctl(controller, TIOCSPTLCK, &unlock) == 0 && ioctl(controller, TIOCGPTN, &number) == 0) {
    NumberedPath("/dev/pts/", number, path);
    replica = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
  }
  bool ok = replica >= 0 && ioctl(replica, TIOCSWINSZ, &size) == 0 && ioctl(replica, TIOCSCTTY, 0) == 0 &&
            (!config.switch_user || fchown(replica, config.uid, config.gid) == 0);
  ok = ok && SendFd(config.console_fd, controller);
  int saved = errno;
  close(controller);
  close(config.console_fd);
  if (!ok && replica >= 0) close(replica);
  errno = saved;
  return ok ? replica : -1;
}

// Docker's default masked paths: read as empty (/dev/null bound over files, an empty read-only tmpfs over
// directories). They expose host memory, keys, timers and firmware.
constexpr const char* kMaskedPaths[] = {
    "/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
    "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap",
};

// Docker's read-only paths: global kernel settings and triggers (sysctls, sysrq, interrupt routing).
constexpr const char* kReadOnlyPaths[] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"};

}  // namespace

bool MaskPath(const char* path) {
  struct stat info;
  if (stat(path, &info) < 0) return errno == ENOENT;  // not on this kernel
  int result = S_ISDIR(info.st_mode) ? mount("tmpfs", path, "tmpfs", MS_RDONLY, "size=0")
                                     : mount("/dev/null", path, nullptr, MS_BIND, nullptr);
  return result == 0;
}

bool FreezePath(const char* path) {
  if (mount(path, path, nullptr, MS_BIND | MS_REC, nullptr) < 0) return errno == ENOENT;  // not on this kernel
  return mount(nullptr, path, nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) == 0;
}

namespace {

bool MaskPaths() {
  for (const char* path : kMaskedPaths) {
    if (!MaskPath(path)) return false;
  }
  for (const char* path : kReadOnlyPaths) {
    if (!FreezePath(path)) return false;
  }
  return true;
}

// Keeps only the configured capabilities: out of the bounding set (so no exec can regain them) and out of the
// effective, permitted and inheritable sets; no_new_privs keeps setuid binaries from raising privileges. The
// bounding set goes first, while CAP_SETPCAP is still held; a non-root --user then switches, which empties the
// permitted set, so its remaining sets are set to nothing, as Docker gives a non-root user no capabilities.
// Every capability number a 64-bit mask can name is tried: the kernel refuses the ones it does not know (EINVAL),
// so no count of them is read, least of all from a file in the container (exec's joiner runs there).
bool DropBoundingSet(const ProcessConfig& config) {
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) return false;
  for (int cap = 0; cap < 64; cap++) {
    if ((config.capabilities >> cap) & 1) continue;
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL) return false;
  }
  return true;
}

bool SetCapabilities(uint64_t capabilities) {
  struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2];
  memset(data, 0, sizeof data);
  for (int word = 0; word < 2; word++) {
    uint32_t bits = static_cast<uint32_t>(capabilities >> (32 * word));
    data[word].effective = bits;
    data[word].permitted = bits;
    data[word].inheritable = bits;
  }
  return syscall(SYS_capset, &header, data) == 0;
}

// Raw system calls, not glibc's setgroups/setgid/setuid: in a multithreaded program glibc applies those to every
// thread, taking a lock and signalling the other threads. This clone of Node has one thread, but glibc's records
// still list Node's, and the lock may have been held by one of them at the instant of the clone.
bool SwitchUser(const ProcessConfig& config) {
  gid_t groups[1] = {config.gid};
  return syscall(SYS_setgroups, 1, groups) == 0 && syscall(SYS_setresgid, config.gid, config.gid, config.gid) == 0 &&
         syscall(SYS_setresuid, config.uid, config.uid, config.uid) == 0;
}

}  // namespace

int32_t ApplyProcessProfile(const ProcessConfig& config) {
  if (!config.privileged && !DropBoundingSet(config)) return kStepCapabilities;
  // The kernel clears the parent-death signal when the ids change: set it again. (Should the parent die in the
  // instant between, nothing here notices: getppid() reads 0 across the PID namespace, and only a pidfd of the
  // parent, opened before the clone, could tell. gc's journal, which records this process, kills it then.)
  if (config.switch_user && (!SwitchUser(config) || prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)) return kStepUser;
  if (!config.privileged && !SetCapabilities(config.switch_user && config.uid != 0 ? 0 : config.capabilities)) {
    return kStepCapabilities;
  }
  if (config.seccomp != nullptr && prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, config.seccomp, 0, 0) < 0) {
    return kStepSeccomp;
  }
  return 0;
}

void MarkAllCloseOnExec(int first) {
  if (syscall(SYS_close_range, static_cast<unsigned>(first), ~0U, CLOSE_RANGE_CLOEXEC) == 0) return;
  // Kernels before 5.11: one descriptor at a time.
  struct rlimit limit;
  rlim_t last = getrlimit(RLIMIT_NOFILE, &limit) == 0 ? limit.rlim_cur : 65536;
  if (last > 65536) last = 65536;
  for (rlim_t fd = static_cast<rlim_t>(first); fd < last; fd++) fcntl(static_cast<int>(fd), F_SETFD, FD_CLOEXEC);
}

// Signal dispositions set to "ignore" survive execve(), and Node ignores SIGPIPE: reset everything to default and
// unblock all signals so the command starts as it would from a shell.
void ResetSignals() {
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_handler = SIG_DFL;
  for (int signal = 1; signal < NSIG; signal++) sigaction(signal, &action, nullptr);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
}

const char* ChildStepName(int32_t step) {
  switch (step) {
    case kStepRelease: return "wait for release";
    case kStepHostname: return "set hostname";
    case kStepLoopback: return "bring up lo";
    case kStepInterface: return "configure interface";
    case kStepRoute: return "add default route";
    case kStepMountPrivate: return "make mounts private";
    case kStepOverlay: return "mount overlay rootfs";
    case kStepPivotRoot: return "pivot_root";
    case kStepProc: return "mount /proc";
    case kStepDev: return "mount /dev";
    case kStepDevices: return "create device node";
    case kStepSys: return "mount /sys";
    case kStepEtcFiles: return "write /etc files";
    case kStepMaskPaths: return "mask kernel paths";
    case kStepWorkdir: return "enter working directory";
    case kStepSession: return "setsid";
    case kStepTerminal: return "open a pseudo-terminal";
    case kStepReadOnlyRoot: return "make the root read-only";
    case kStepUser: return "switch user";
    case kStepCapabilities: return "drop capabilities";
    case kStepSeccomp: return "install seccomp filter";
    case kStepStdio: return "set up stdio";
    case kStepInit: return "exec minictr-init";
    case kStepExec: return "exec";
    case kStepJoinRequest: return "read the exec request";
    case kStepJoinCgroup: return "join the container's cgroup";
    case kStepJoinNamespaces: return "join the container's namespaces";
    case kStepVolumes: return "mount volumes";
    case kStepNamespaces: return "join namespaces (setns)";
    case kStepSysctl: return "write sysctl";
    case kStepRlimits: return "set rlimits";
    case kStepExecFifo: return "wait for start (exec fifo)";
    case kStepConfig: return "read the container's config";
    default: return "unknown step";
  }
}

void FailStep(const ProcessConfig& config, int32_t step) {
  ReportStep(config.error_fd, step, errno);
  _exit(127);  // what minictr reports comes from the error pipe, not from this status
}

void AwaitRelease(const ProcessConfig& config, bool die_with_parent) {
  // 0. Die with the parent (minictr, minictr-monitor for -d), start from default signal handling, and drop the
  //    copies of the other processes' pipe ends this process inherited. Not dumpable: until it execs, this process
  //    holds host descriptors and the container's config (minictr-oci's child: a copy of Node's memory), and the
  //    container's root may otherwise read /proc/PID/mem, environ and fd of a process of its own uid (runc does the
  //    same). It does not stop root keeping CAP_SYS_PTRACE, which is why no process visible in the container is a
  //    copy of Node but minictr-oci's. execve() makes it dumpable again.
  if (die_with_parent) prctl(PR_SET_PDEATHSIG, SIGKILL);
  prctl(PR_SET_DUMPABLE, 0);
  ResetSignals();
  for (int i = 0; i < config.foreign_fd_count; i++) close(config.foreign_fds[i]);

  // 1. Block until minictr has done its part (for a container: the host side of its network and its cgroup). EOF
  //    without "go" means it gave up.
  char go[2] = {0, 0};
  if (ReadFully(config.release_fd, go, sizeof go) != 2 || go[0] != 'g' || go[1] != 'o') _exit(0);
  close(config.release_fd);
}

void EnterSession(const ProcessConfig& config, int (&stdio)[3]) {
  // A session of its own: keys typed on minictr's terminal signal minictr, which forwards them exactly once. With
  // -t the pseudo-terminal becomes this session's controlling terminal instead, as login does.
  if (setsid() < 0) FailStep(config, kStepSession);
  for (int fd = 0; fd <= 2; fd++) stdio[fd] = config.stdio[fd];
  if (config.console_fd >= 0) {
    int replica = OpenTerminal(config);
    if (replica < 0) FailStep(config, kStepTerminal);
    stdio[0] = stdio[1] = stdio[2] = replica;
  }
}

void PrepareExec(const ProcessConfig& config, const int (&stdio)[3]) {
  if (!PrepareStdio(stdio)) FailStep(config, kStepStdio);
  MarkAllCloseOnExec(3);
  umask(022);
}

bool PivotInto(const char* new_root) { return PivotRoot(new_root); }

bool MakeDirectories(char* path) { return MkdirAll(path); }

bool MakeDeviceNode(const DeviceNodeConfig& device) { return CreateDeviceNode(device); }

bool EnterCgroups(const CgroupTasks& tasks) {
  for (int i = 0; i < tasks.count; i++) {
    bool ok = write(tasks.fds[i], "0", 1) == 1;
    int saved = errno;
    close(tasks.fds[i]);
    errno = saved;
    if (!ok) return false;
  }
  return true;
}

void RunChild(const ChildConfig& config) {
  // 0a. Into its cgroups (v1) before anything else: nothing it does from here on runs outside its limits and device
  //     policy. A failure is reported when minictr next looks (its release, or the step that failed meanwhile).
  if (!EnterCgroups(config.cgroup_tasks)) FailStep(config, kStepJoinCgroup);

  // 0-1. See AwaitRelease.
  AwaitRelease(config);

  // 2. Hostname, in the new UTS namespace.
  if (sethostname(config.hostname, strlen(config.hostname)) < 0) FailStep(config, kStepHostname);

  // 3-5. Network, in the new network namespace: lo up, then eth0 (moved here by minictr) and the default route
  //      (and on a dual-stack network the same in IPv6).
  int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock < 0 || !SetFlagsUp(sock, "lo")) FailStep(config, kStepLoopback);
  if (config.configure_interface) {
    if (!ConfigureInterface(sock, config)) FailStep(config, kStepInterface);
    if (!AddDefaultRoute(sock, config)) FailStep(config, kStepRoute);
    if (config.configure_ipv6 && !ConfigureIpv6(config)) FailStep(config, kStepInterface);
  }
  close(sock);

  // 6. Nothing mounted from here on may leak into the host's mount namespace.
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0) FailStep(config, kStepMountPrivate);

  // 7-8. The container's root: a private overlay whose upper layer lives in the container's state directory.
  if (!MountOverlay(config.overlay)) FailStep(config, kStepOverlay);
  // 7b. Volumes, on paths resolved inside the new root while the host's paths are still visible (mounts.cc).
  if (!MountVolumes(config.overlay.target, config.mounts, config.mount_count)) FailStep(config, kStepVolumes);
  if (!PivotRoot(config.overlay.target)) FailStep(config, kStepPivotRoot);

  // 9-11. Kernel filesystems as seen from inside: /proc of the new PID namespace, a minimal /dev (with the --device
  //       nodes), read-only /sys.
  if (!MountPoint("/proc", 0555) ||
      mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) < 0) {
    FailStep(config, kStepProc);
  }
  if (!MountDev()) FailStep(config, kStepDev);
  for (size_t i = 0; i < config.device_count; i++) {
    if (!CreateDeviceNode(config.devices[i])) FailStep(config, kStepDevices);
  }
  if (!MountPoint("/sys", 0555) ||
      mount("sysfs", "/sys", "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) < 0) {
    FailStep(config, kStepSys);
  }

  // 12. Name resolution and identity files, written into the overlay's upper layer.
  if (!MountPoint("/etc", 0755)) FailStep(config, kStepEtcFiles);
  for (size_t i = 0; i < config.etc_file_count; i++) {
    if (!WriteEtcFile(config.etc_files[i])) FailStep(config, kStepEtcFiles);
  }

  // 12b. The default security profile's filesystem part: masked and read-only kernel paths.
  if (!config.privileged && !MaskPaths()) FailStep(config, kStepMaskPaths);

  // 13. Working directory, created if missing as Docker does.
  if (!MkdirAll(config.workdir) || chdir(config.workdir) < 0) FailStep(config, kStepWorkdir);

  // 14. Session and terminal (see EnterSession).
  int stdio[3];
  EnterSession(config, stdio);

  // 14a. --read-only: every write above is done; the root becomes read-only.
  if (config.read_only && mount(nullptr, "/", nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr) < 0) {
    FailStep(config, kStepReadOnlyRoot);
  }

  // 14b. The security profile's process part, last, since every step above needed full privileges.
  int32_t step = ApplyProcessProfile(config);
  if (step != 0) FailStep(config, step);

  // 15. Stdio in place; every descriptor above stderr closes at the command's exec, the error pipe included (its
  //     caller, init.cc, execs the command or, with --init, runs it as its child).
  PrepareExec(config, stdio);
}

}  // namespace minictr
