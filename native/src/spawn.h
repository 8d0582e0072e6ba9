// Parent side of starting a container: clone() into new namespaces with a child blocked on the release pipe, then
// release it ("go") or abort it (close the pipe).
#pragma once

#include <pthread.h>
#include <signal.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "fd.h"

namespace minictr {

// Everything the child needs: encoded for minictr-init's child mode (child_request.h), or, for minictr-oci and exec's
// joiner, turned into plain pointers before clone().
struct SpawnRequest {
  bool new_network = true;
  std::string hostname;
  bool configure_interface = false;
  std::string ifname;
  uint32_t address = 0;  // network byte order
  uint32_t netmask = 0;
  uint32_t gateway = 0;
  bool configure_ipv6 = false;  // a dual-stack network: an IPv6 address and default route too
  uint8_t address6[16] = {};
  uint8_t prefix6 = 0;
  uint8_t gateway6[16] = {};
  struct Overlay {
    std::string target;
    std::vector<std::string> lower;  // topmost first
    std::string upper;
    std::string work;
    bool volatile_upper = false;
    bool lowerdir_plus = false;
    std::optional<std::string> options;  // mount(2)'s; none: it cannot take them
  };
  Overlay overlay;
  std::vector<std::pair<std::string, std::string>> etc_files;  // path, content
  struct Device {
    std::string path;  // under /dev/
    bool block;
    bool fifo = false;  // minictr-oci's linux.devices type p
    uint32_t major;
    uint32_t minor;
    uint32_t mode;  // permission bits
  };
  std::vector<Device> devices;  // --device
  struct Mount {
    int kind;  // MountKind (mounts.h)
    std::string source;
    std::string target;
    bool read_only;
    std::string data;
  };
  std::vector<Mount> mounts;  // -v, --mount, --tmpfs, parents first
  std::string workdir;
  bool privileged = false;
  uint64_t capabilities = 0;  // bit N: keep capability N
  bool read_only = false;
  bool switch_user = false;
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::string exec_path;
  std::vector<std::string> argv;
  std::vector<std::string> env;
  // The host's minictr-init. The container's clone execs a sealed in-memory copy of it (see SealedCopy in spawn.cc),
  // which builds the container and execs the command; with --init it stays as PID 1 and runs the command as its child.
  std::string helper_path;
  bool init = false;
  bool terminal = false;  // -t: the child opens a pseudo-terminal in the container and sends minictr its controller
  unsigned short rows = 24;
  unsigned short columns = 80;
  // -d: minictr-monitor becomes the container's parent (see Spawn); empty: the container is minictr's child.
  std::string monitor_path;
  std::string monitor_log;
  bool keep_stdin = false;  // -d -i: stdin is a pipe the monitor holds open, so reading it blocks instead of EOF
  int join_pid = 0;  // SpawnExec: the host pid of the container's PID 1, whose namespaces and root are joined
  uint64_t join_start_time = 0;  // ... and its start time (/proc/PID/stat field 22), checked against reuse
  std::string join_request;  // ... and what minictr-init's join mode does there (see join.cc)
  int exec_stdio[3] = {-1, -1, -1};  // ... its fds 0-2 (-1: the caller's own)
  std::string console_socket;  // ... minictr-oci exec --tty: the caller's socket receives the controller directly
  std::vector<std::string> monitor_argv;
  std::vector<std::string> monitor_env;
  // The container's cgroups, as descriptors the caller opened and still owns: cgroup v1's `tasks` files (the
  // child joins them itself, EnterCgroups), or cgroup v2's directory (-1: none), the clone's CLONE_INTO_CGROUP.
  std::vector<int> cgroup_tasks;
  int cgroup_dir = -1;
};

struct SpawnResult {
  int pid = -1;
  int pidfd = -1;          // -1 when detached: only the monitor can wait for the container
  int release_fd = -1;     // write "go" here, or close it to abort
  int error_fd = -1;       // EOF = exec succeeded; 8 bytes = {step, errno}
  int monitor_pid = -1;    // detached only
  int handoff_fd = -1;     // detached only: closing it tells the monitor that minictr is done with setup
  int console_fd = -1;     // -t only: the pseudo-terminal's controller arrives here (SCM_RIGHTS) before exec
};

struct CgroupTasks;

// The child's copy of request.cgroup_tasks; false (E2BIG) if there are more than it holds.
bool SetCgroupTasks(const SpawnRequest& request, CgroupTasks* tasks);

// Returns 0 or an errno, with `what` naming the call that failed.
int Spawn(const SpawnRequest& request, SpawnResult* result, const char** what);

// `minictr exec`: a child blocked like Spawn's, but in the namespaces and root of the running container join_pid, and
// a child of this process, started by minictr-init's join mode from join_request. Uses also: helper_path, terminal.
int SpawnExec(const SpawnRequest& request, SpawnResult* result, const char** what);

struct ReleaseOutcome {
  int32_t step = 0;  // 0: the command is running
  int32_t error = 0;
};

// Blocking: writes "go", then reads the error pipe until exec closes it. Closes both descriptors. A child that
// failed before its release (it can: EnterCgroups) is gone, and "go" finds no reader: its own report says why.
ReleaseOutcome Release(int release_fd, int error_fd);

// The {step, errno} a child has already written on its error pipe, without waiting; {0, 0} when there is none.
ReleaseOutcome SentReport(int error_fd);

// clone3's name in errors, which says when the clone was also the join of a cgroup (CLONE_INTO_CGROUP).
inline const char* CloneCallName(int cgroup_dir) {
  return cgroup_dir >= 0 ? "clone3 into the container's cgroup (CLONE_INTO_CGROUP)" : "clone3";
}

// minictr-init as a sealed, executable in-memory copy of the file at `path` (spawn.cc says why); invalid on failure.
Fd SealedCopy(const char* path);

// Blocks every signal across a clone (see Spawn, step 3) and restores the mask when it goes out of scope.
class SignalsBlocked {
 public:
  SignalsBlocked() {
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &saved_);
  }
  ~SignalsBlocked() { pthread_sigmask(SIG_SETMASK, &saved_, nullptr); }

 private:
  sigset_t saved_;
};

}  // namespace minictr
