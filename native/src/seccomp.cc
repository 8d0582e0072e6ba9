// The default seccomp filter: a deny list, in classic BPF, of the calls that reach kernel state a container must
// not touch (modules, kexec and reboot, keyrings, bpf, perf, userfaultfd, the clock, mounts and namespaces,
// ptrace and cross-process memory, raw I/O ports, NUMA placement). Each call listed with a capability is allowed
// again when the container keeps that capability (--cap-add), as Docker's profile does. Namespace flags to clone()
// are refused likewise, and clone3(), whose flags BPF cannot read, reports ENOSYS so libc falls back to clone().
// Calls from a foreign ABI (32-bit or x32 on x86_64), whose numbers this list does not describe, report ENOSYS.
// A few calls are refused only for some arguments, as in Docker's profile: socket() for AF_VSOCK (the hypervisor's
// sockets), personality() beyond the values programs use; and, beyond Docker, the terminal ioctls TIOCSTI and
// TIOCLINUX, which would let a container type into a terminal it shares with its caller (see README, "Security
// profile").
//
// This is not Docker's allowlist of ~350 calls: everything not listed here stays allowed.
#include "seccomp.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <iterator>

namespace minictr {

namespace {

#if defined(__x86_64__)
constexpr uint32_t kNativeArch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
constexpr uint32_t kNativeArch = AUDIT_ARCH_AARCH64;
#else
#error "minictr's seccomp filter knows x86_64 and aarch64 only"
#endif

// Capability numbers from <linux/capability.h>; -1: denied whatever the capabilities.
constexpr int kNoCapability = -1;
constexpr int kDacReadSearch = 2, kSysModule = 16, kSysRawio = 17, kSysPtrace = 19, kSysPacct = 20,
              kSysAdmin = 21, kSysBoot = 22, kSysNice = 23, kSysTime = 25, kSyslog = 34;

struct Denied {
  long number;
  int capability;
};

const Denied kDenied[] = {
    {__NR_init_module, kSysModule},       {__NR_finit_module, kSysModule},  {__NR_delete_module, kSysModule},
    {__NR_kexec_load, kSysBoot},          {__NR_kexec_file_load, kSysBoot}, {__NR_reboot, kSysBoot},
    {__NR_acct, kSysPacct},               {__NR_add_key, kNoCapability},    {__NR_keyctl, kNoCapability},
    {__NR_request_key, kNoCapability},    {__NR_userfaultfd, kNoCapability}, {__NR_bpf, kSysAdmin},
    {__NR_perf_event_open, kSysAdmin},    {__NR_clock_settime, kSysTime},   {__NR_clock_adjtime, kSysTime},
    {__NR_settimeofday, kSysTime},        {__NR_mount, kSysAdmin},          {__NR_umount2, kSysAdmin},
    {__NR_pivot_root, kSysAdmin},         {__NR_unshare, kSysAdmin},        {__NR_setns, kSysAdmin},
    {__NR_fsopen, kSysAdmin},             {__NR_fsconfig, kSysAdmin},       {__NR_fsmount, kSysAdmin},
    {__NR_fspick, kSysAdmin},             {__NR_move_mount, kSysAdmin},     {__NR_open_tree, kSysAdmin},
    {__NR_swapon, kSysAdmin},             {__NR_swapoff, kSysAdmin},        {__NR_quotactl, kSysAdmin},
    {__NR_lookup_dcookie, kSysAdmin},     {__NR_syslog, kSyslog},           {__NR_open_by_handle_at, kDacReadSearch},
    {__NR_ptrace, kSysPtrace},            {__NR_process_vm_readv, kSysPtrace}, {__NR_process_vm_writev, kSysPtrace},
    {__NR_kcmp, kSysPtrace},              {__NR_pidfd_getfd, kSysPtrace},   {__NR_process_madvise, kSysPtrace},
    {__NR_mount_setattr, kSysAdmin},      {__NR_quotactl_fd, kSysAdmin},
    {__NR_io_uring_setup, kNoCapability}, {__NR_io_uring_enter, kNoCapability},
    {__NR_io_uring_register, kNoCapability},
    {__NR_get_mempolicy, kSysNice},       {__NR_set_mempolicy, kSysNice},
    {__NR_mbind, kSysNice},               {__NR_move_pages, kSysNice},
#if defined(__x86_64__)
    {__NR_iopl, kSysRawio},               {__NR_ioperm, kSysRawio},         {__NR_uselib, kNoCapability},
    {__NR_ustat, kNoCapability},          {__NR_sysfs, kNoCapability},      {__NR__sysctl, kNoCapability},
#endif
};

constexpr uint32_t kNamespaceFlags =
    CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWCGROUP;

sock_filter Statement(uint16_t code, uint32_t k) { return BPF_STMT(code, k); }
sock_filter Jump(uint16_t code, uint32_t k, uint8_t jt, uint8_t jf) { return BPF_JUMP(code, k, jt, jf); }

bool Keeps(uint64_t capabilities, int capability) {
  return capability != kNoCapability && ((capabilities >> capability) & 1) != 0;
}

}  // namespace

std::vector<sock_filter> BuildSeccompFilter(uint64_t capabilities) {
  const uint32_t kDenyPerm = SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA);
  const uint32_t kDenyNosys = SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA);
  std::vector<sock_filter> program;
  // 1. Only the native ABI's numbers mean what the list says.
  program.push_back(Statement(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)));
  program.push_back(Jump(BPF_JMP | BPF_JEQ | BPF_K, kNativeArch, 1, 0));
  program.push_back(Statement(BPF_RET | BPF_K, kDenyNosys));
  program.push_back(Statement(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)));
#if defined(__x86_64__)
  program.push_back(Jump(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 0, 1));  // x32 calls carry this bit
  program.push_back(Statement(BPF_RET | BPF_K, kDenyNosys));
#endif
  // 2. The deny list, less what the kept capabilities allow.
  for (const Denied& denied : kDenied) {
    if (Keeps(capabilities, denied.capability)) continue;
    program.push_back(Jump(BPF_JMP | BPF_JEQ | BPF_K, static_cast<uint32_t>(denied.number), 0, 1));
    program.push_back(Statement(BPF_RET | BPF_K, kDenyPerm));
  }
  // 3. Calls refused for some arguments. Each block ends in ALLOW: once the accumulator holds an argument, no
  //    later comparison with a call number could be right. The arguments compared are ints in the kernel, so
  //    their low 32 bits (which come first on both architectures) are all that counts.
  const auto argument = [](int index) {
    return Statement(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, args) + 8 * index);
  };
  const auto block = [&](long number, std::vector<sock_filter> body) {
    body.push_back(Statement(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
    program.push_back(Jump(BPF_JMP | BPF_JEQ | BPF_K, static_cast<uint32_t>(number), 0, static_cast<uint8_t>(body.size())));
    program.insert(program.end(), body.begin(), body.end());
  };
  // 3a. New namespaces through clone() or clone3(), unless the container keeps CAP_SYS_ADMIN.
  if (!Keeps(capabilities, kSysAdmin)) {
    program.push_back(Jump(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone3, 0, 1));
    program.push_back(Statement(BPF_RET | BPF_K, kDenyNosys));
    block(__NR_clone, {argument(0), Jump(BPF_JMP | BPF_JSET | BPF_K, kNamespaceFlags, 0, 1),
                       Statement(BPF_RET | BPF_K, kDenyPerm)});
  }
  // 3b. socket(AF_VSOCK, ...): the host's hypervisor sockets.
  block(__NR_socket, {argument(0), Jump(BPF_JMP | BPF_JEQ | BPF_K, AF_VSOCK, 0, 1), Statement(BPF_RET | BPF_K, kDenyPerm)});
  // 3c. personality(): only the values Docker allows (PER_LINUX, UNAME26, PER_LINUX32, both, and the query).
  const uint32_t kPersonas[] = {0x0, 0x0008, 0x20000, 0x20008, 0xffffffff};
  std::vector<sock_filter> personas{argument(0)};
  for (size_t i = 0; i < std::size(kPersonas); i++) {
    const auto to_allow = static_cast<uint8_t>(std::size(kPersonas) - i);  // past the later checks and the denial
    personas.push_back(Jump(BPF_JMP | BPF_JEQ | BPF_K, kPersonas[i], to_allow, 0));
  }
  personas.push_back(Statement(BPF_RET | BPF_K, kDenyPerm));
  block(__NR_personality, personas);
  // 3d. ioctl(fd, TIOCSTI or TIOCLINUX): faking input on, or driving the console of, a terminal.
  block(__NR_ioctl, {argument(1), Jump(BPF_JMP | BPF_JEQ | BPF_K, TIOCSTI, 1, 0), Jump(BPF_JMP | BPF_JEQ | BPF_K, TIOCLINUX, 0, 1),
                     Statement(BPF_RET | BPF_K, kDenyPerm)});
  program.push_back(Statement(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
  return program;
}

}  // namespace minictr
