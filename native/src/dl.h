// Libraries opened on first use (dlopen) instead of with the addon: libnftables (nftables.cc) and libzstd (zstd.cc)
// serve only some runs, and loading them with their dependencies cost every run 0.9 ms.
#pragma once

#include <dlfcn.h>

namespace minictr {

// Finds functions in an open library: each Find sets a function pointer to the symbol of that name (nullptr when
// missing); failure() is dlerror's message for the first one missing, or nullptr.
class Symbols {
 public:
  explicit Symbols(void* handle) : handle_(handle) {}

  template <typename Function>
  void Find(Function& function, const char* name) {
    void* symbol = dlsym(handle_, name);
    if (symbol == nullptr && failure_ == nullptr) failure_ = dlerror();
    function = reinterpret_cast<Function>(symbol);
  }

  const char* failure() const { return failure_; }

 private:
  void* handle_;
  const char* failure_ = nullptr;
};

}  // namespace minictr
