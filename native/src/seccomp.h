// A seccomp filter denying the system calls a container has no business making, built before clone() and
// installed by the container's child just before exec (child.cc), and by exec's joiner before it clones (join.cc).
#pragma once

#include <linux/filter.h>

#include <cstdint>
#include <vector>

namespace minictr {

// The filter for a container keeping `capabilities` (bit N: capability N). A denied call fails with EPERM
// unless the container keeps the capability that call needs, as in Docker's profile.
std::vector<sock_filter> BuildSeccompFilter(uint64_t capabilities);

// The program a child installs: BuildSeccompFilter's for `capabilities`, or none (null) for a privileged
// container. Not copyable: the program points into the filter it owns.
class SeccompProgram {
 public:
  SeccompProgram(bool privileged, uint64_t capabilities) : privileged_(privileged) {
    if (privileged_) return;
    filter_ = BuildSeccompFilter(capabilities);
    program_.len = static_cast<unsigned short>(filter_.size());
    program_.filter = filter_.data();
  }
  SeccompProgram(const SeccompProgram&) = delete;
  SeccompProgram& operator=(const SeccompProgram&) = delete;

  const sock_fprog* get() const { return privileged_ ? nullptr : &program_; }

 private:
  bool privileged_;
  std::vector<sock_filter> filter_;
  sock_fprog program_{};
};

}  // namespace minictr
