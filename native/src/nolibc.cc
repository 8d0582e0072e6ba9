// The entry point and the two memory functions minictr-monitor needs without a C library (see nolibc.h).
#include "nolibc.h"

// The kernel starts a static program at _start with the stack holding argc, then argv's pointers and a null, then
// envp's and a null. The stack is 16-byte aligned there on both architectures; x86_64's call pushes 8 more.
extern "C" [[noreturn, gnu::used]] void StartMain(long* stack) {
  int argc = static_cast<int>(stack[0]);
  char** argv = reinterpret_cast<char**>(stack + 1);
  sys::Exit(main(argc, argv, argv + argc + 1));
}

#if defined(__x86_64__)
asm(".text\n.global _start\n_start:\n  xor %ebp, %ebp\n  mov %rsp, %rdi\n  and $-16, %rsp\n  call StartMain\n  hlt\n");
#else
asm(".text\n.global _start\n_start:\n  mov x29, #0\n  mov x30, #0\n  mov x0, sp\n  bl StartMain\n  brk #0\n");
#endif

// Byte loops; volatile keeps the compiler from turning them back into calls to themselves.
extern "C" void* memset(void* to, int byte, size_t size) {
  auto* out = static_cast<volatile unsigned char*>(to);
  for (size_t i = 0; i < size; i++) out[i] = static_cast<unsigned char>(byte);
  return to;
}

extern "C" void* memcpy(void* to, const void* from, size_t size) {
  auto* out = static_cast<volatile unsigned char*>(to);
  const auto* in = static_cast<const unsigned char*>(from);
  for (size_t i = 0; i < size; i++) out[i] = in[i];
  return to;
}
