// `minictr-oci create`: a container described by an OCI bundle's config.json (src/oci/), started with the same child
// steps and helpers as `minictr run` (child.cc, mounts.cc, init.cc) where the config asks for the same thing, and
// with the config's own values where runc's behaviour differs from minictr's defaults: exactly the mounts given,
// namespaces joined by path, separate capability sets, rlimits, sysctls, its own masked and read-only paths.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "fd.h"
#include "spawn.h"

namespace minictr {

struct OciRequest {
  // Used as for `minictr run`: hostname, devices, workdir, read_only, switch_user, uid, gid,
  // exec_path, argv, env, helper_path, terminal, rows, columns.
  SpawnRequest process;
  struct Mount {
    std::string source, target, fstype, data;
    unsigned long flags, propagation;  // see MountConfig (mounts.h)
  };
  std::vector<Mount> mounts;  // exactly config.json's, in order
  std::string root;                                  // the bundle's rootfs, bind-mounted on itself, then pivot_root
  uint64_t clone_flags = 0;                          // CLONE_NEW* of the namespaces made new
  std::vector<std::pair<int, std::string>> joined;   // CLONE_NEW* type and path of each namespace joined (setns)
  std::vector<uint32_t> additional_gids;
  uint64_t bounding = 0, effective = 0, permitted = 0, inheritable = 0, ambient = 0;
  bool no_new_privileges = false;
  std::vector<std::string> masked_paths;
  std::vector<std::string> readonly_paths;
  std::vector<std::pair<std::string, std::string>> sysctl;  // /proc/sys/... path, value
  struct Rlimit {
    int resource;
    uint64_t soft;
    uint64_t hard;
  };
  std::vector<Rlimit> rlimits;
  std::string seccomp;         // whole struct sock_filter instructions (src/oci/seccomp.ts); empty: no filter
  std::string console_socket;  // process.terminal: the caller's socket, which receives the terminal's controller
  std::string exec_fifo;       // opened for writing just before the exec: `start` opens it for reading
  int preserve_fds = 0;        // fds 3 .. 3+N-1 of the caller stay open in the container
  unsigned long root_propagation = 0;  // of the new root, after pivot_root: MS_PRIVATE (default), MS_SLAVE, MS_SHARED
  bool dev_links = false;  // /dev's default links (the spec's), unless /dev is bound from the host
};

// Forks an intermediate process that joins the namespaces named by path and clones the container's process into the
// new ones, reports its pid and exits (so the container is adopted by the caller's subreaper, as runc's is). In a new
// user namespace the caller writes its uid_map and gid_map before the release. The child builds the container when
// released, says "ready" on the error pipe (a {0, 0} report) and blocks on the exec FIFO until `start`. Returns 0 or
// an errno with `what` naming the call.
int SpawnOci(const OciRequest& request, SpawnResult* result, const char** what);

// A Unix stream socket connected to the caller's console socket (runc's --console-socket), which receives a
// terminal's controller (create with process.terminal, exec --tty); invalid, errno set, on failure.
Fd ConnectConsole(const std::string& path);

}  // namespace minictr
