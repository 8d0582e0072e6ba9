// The container's config on its way from the addon to minictr-init's child mode: the parent encodes what the
// container's first process needs of a SpawnRequest, and the descriptor numbers it gets, into a sealed memfd before
// the clone; the child, once it is minictr-init, decodes it and builds the ChildConfig that RunChild (child.cc) runs.
#pragma once

#include <linux/filter.h>

#include <string>
#include <vector>

#include "child.h"
#include "seccomp.h"
#include "spawn.h"

namespace minictr {

// The descriptors the container's first process inherits, by their numbers in it (-1: none).
struct ChildFds {
  int release = -1;
  int error = -1;
  int console = -1;  // -t
  int stdio[3] = {-1, -1, -1};  // -d: the monitor's pipes and /dev/null; else -1: minictr's own
};

// The child's part of `request` and `fds`, as bytes.
std::string EncodeChildRequest(const SpawnRequest& request, const ChildFds& fds);

// The reverse; false (errno EINVAL) on a truncated or malformed encoding.
bool DecodeChildRequest(const std::string& bytes, SpawnRequest* request, ChildFds* fds);

// argv/envp arrays of `strings`, null-terminated, pointing into them.
std::vector<char*> PointerArray(const std::vector<std::string>& strings);

// A ChildConfig and the memory its pointers point into, built from a decoded request, which must outlive it (its
// strings are used in place). Not copyable: `config` points into the members.
class PreparedChild {
 public:
  PreparedChild(const SpawnRequest& request, const ChildFds& fds);
  PreparedChild(const PreparedChild&) = delete;
  PreparedChild& operator=(const PreparedChild&) = delete;

  ChildConfig config{};
  std::vector<char*> argv;  // the command's, for its exec (request.exec_path)

 private:
  std::vector<char*> envp_;
  std::vector<char> workdir_;  // writable: the child walks it to create missing parents
  SeccompProgram seccomp_;
  std::vector<EtcFile> etc_files_;
  std::vector<std::string> device_paths_;  // writable, as workdir_
  std::vector<DeviceNodeConfig> devices_;
  std::vector<const char*> lower_;
  std::vector<MountConfig> mounts_;
};

}  // namespace minictr
