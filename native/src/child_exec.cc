// Clones that share Node's memory until they exec (child_exec.h): a container's first process until it is
// minictr-init, and -d's launcher (launcher.cc). A plain clone3() would copy Node's whole address space (1.1-1.5 ms
// for its page tables, then a copy-on-write fault for every page Node writes until the child execs); with CLONE_VM
// the child runs in Node's memory instead, and CLONE_VFORK suspends the calling thread until the child has exec'd,
// so nothing else of this thread runs on or writes to what the child uses meanwhile. The child needs a stack of its
// own (the caller's frames must survive it), which glibc's clone3 offers only internally: hence the few
// instructions below, the same as glibc's clone3.S.
#include "child_exec.h"

#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "child.h"

// long minictr_clone3_run(struct clone_args* args, size_t size, void (*run)(const void*), const void* arg): the raw
// clone3 system call (-errno on failure). In the child, on the new stack, it calls run(arg), which never returns.
// The kernel keeps every register but rax (and rcx, r11) in both processes, so run and arg wait in r8 and r9.
extern "C" long minictr_clone3_run(struct clone_args* args, size_t size, void (*run)(const void*), const void* arg);

#if defined(__x86_64__)
asm(R"(
  .text
  .globl minictr_clone3_run
  .hidden minictr_clone3_run
  .type minictr_clone3_run, @function
minictr_clone3_run:
  endbr64
  mov %rdx, %r8
  mov %rcx, %r9
  mov $435, %eax
  syscall
  test %rax, %rax
  jz 1f
  ret
1:
  xor %ebp, %ebp
  mov %r9, %rdi
  call *%r8
  mov $127, %edi
  mov $60, %eax
  syscall
  hlt
  .size minictr_clone3_run, .-minictr_clone3_run
)");
#else
#error "minictr_clone3_run is written for x86_64 only"
#endif

namespace minictr {

namespace {

// A clone's stack: its child makes a few system calls and execs, so a few pages are plenty; a guard page below
// turns an overflow into a fault instead of a write into the parent's memory.
constexpr size_t kStackSize = 64 * 1024;
constexpr size_t kGuardSize = 4096;

// The child, on its own stack in the parent's memory: only system calls, no write to memory but this stack (errno
// aside: glibc sets it in the calling thread's TLS, Node's thread, which is suspended until the exec, as it is in
// glibc's own posix_spawn).
[[noreturn]] void RunClone(const void* arg) {
  const ChildExec& exec = *static_cast<const ChildExec*>(arg);
  // Stdio as minictr has it (Node marks it close-on-exec for itself), or closed, as it may be; nothing else of
  // Node's (not even a descriptor it inherited without close-on-exec) but the descriptors kept.
  for (int fd = 0; fd <= 2; fd++) fcntl(fd, F_SETFD, 0);
  MarkAllCloseOnExec(3);
  for (int i = 0; i < exec.keep_count; i++) {
    if (fcntl(exec.keep[i], F_SETFD, 0) < 0) ReportStep(exec.error_fd, kStepInit, errno), _exit(127);
  }
  char* const empty[] = {nullptr};
  syscall(SYS_execveat, exec.helper_fd, "", exec.argv, empty, AT_EMPTY_PATH);
  ReportStep(exec.error_fd, kStepInit, errno);
  _exit(127);
}

}  // namespace

long CloneVfork(uint64_t flags, int* pidfd, int cgroup, void (*run)(const void*), const void* arg) {
  void* stack = mmap(nullptr, kGuardSize + kStackSize, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK | MAP_NORESERVE, -1, 0);
  if (stack == MAP_FAILED) return -1;
  if (mprotect(stack, kGuardSize, PROT_NONE) < 0) {
    int saved = errno;
    munmap(stack, kGuardSize + kStackSize);
    return errno = saved, -1;
  }
  struct clone_args args = CloneArgs(flags | CLONE_VM | CLONE_VFORK, pidfd, cgroup);
  args.exit_signal = SIGCHLD;
  args.stack = reinterpret_cast<uint64_t>(stack) + kGuardSize;
  args.stack_size = kStackSize;
  long pid = minictr_clone3_run(&args, sizeof args, run, arg);
  // The child has exec'd or exited by now (CLONE_VFORK): its stack is free again.
  munmap(stack, kGuardSize + kStackSize);
  if (pid < 0) return errno = static_cast<int>(-pid), -1;
  return pid;
}

long CloneChild(const ChildExec& exec, uint64_t flags, int* pidfd, int cgroup) {
  return CloneVfork(flags, pidfd, cgroup, RunClone, &exec);
}

}  // namespace minictr
