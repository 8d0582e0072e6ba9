// The bpf(2) system calls minictr makes: load a program, attach it to a cgroup. The programs themselves are
// built in TypeScript (src/bpf/); this file only passes bytes and numbers to the kernel.
#pragma once

#include <napi.h>

namespace minictr {

// bpfProgLoad(type, insns, license, name, expectedAttachType) → fd (close-on-exec). On failure an Error with errno
// and `log`, the verifier's log.
Napi::Value BpfProgLoad(const Napi::CallbackInfo& info);
// bpfProgAttach(target, progFd, attachType, flags) → Promise<void>, on the thread pool (the descriptors must stay
// open until it settles); `target` is a cgroup directory's fd.
Napi::Value BpfProgAttach(const Napi::CallbackInfo& info);
// interfaceIndex(name) → number: if_nametoindex in this process's network namespace; 0 when absent.
Napi::Value InterfaceIndex(const Napi::CallbackInfo& info);

}  // namespace minictr
