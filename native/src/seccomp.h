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

}  // namespace minictr
