// bpf(2) for minictr's two eBPF programs: loading both, the device policy of a cgroup v2 container
// (BPF_CGROUP_DEVICE, see src/bpf/) and the veth filter (src/network/veth-filter.ts), and attaching the first to its
// cgroup. The veth filter is attached by rtnetlink requests (a cls_bpf filter naming the program's descriptor), built
// in TypeScript.
#include "bpf.h"

#include <linux/bpf.h>
#include <net/if.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "errors.h"

namespace minictr {

namespace {

constexpr size_t kLogSize = 64 * 1024;

long Bpf(int command, void* attr, size_t size) {
  long result;
  do {
    result = syscall(SYS_bpf, command, attr, size);
  } while (result < 0 && errno == EAGAIN && command == BPF_PROG_LOAD);
  return result;
}

bool NumbersOnly(const Napi::CallbackInfo& info, size_t count) {
  if (info.Length() != count) return false;
  for (size_t i = 0; i < count; i++) {
    if (!info[i].IsNumber()) return false;
  }
  return true;
}

uint32_t U32(const Napi::Value& value) { return value.As<Napi::Number>().Uint32Value(); }

}  // namespace

Napi::Value BpfProgLoad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 5 || !info[0].IsNumber() || !info[1].IsTypedArray() || !info[2].IsString() ||
      !info[3].IsString() || !info[4].IsNumber()) {
    return ThrowTypeError(env, "bpfProgLoad(type: number, insns: Uint8Array, license: string, name: string, expectedAttachType: number)");
  }
  Napi::TypedArray array = info[1].As<Napi::TypedArray>();
  if (array.TypedArrayType() != napi_uint8_array || array.ByteLength() == 0 || array.ByteLength() % 8 != 0) {
    return ThrowTypeError(env, "bpfProgLoad: insns must be a Uint8Array of whole 8-byte instructions");
  }
  Napi::Uint8Array insns = array.As<Napi::Uint8Array>();
  std::string license = info[2].As<Napi::String>().Utf8Value();
  std::string name = info[3].As<Napi::String>().Utf8Value();
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.prog_type = U32(info[0]);
  attr.insn_cnt = static_cast<uint32_t>(insns.ByteLength() / 8);
  attr.insns = reinterpret_cast<uint64_t>(insns.Data());
  attr.license = reinterpret_cast<uint64_t>(license.c_str());
  attr.expected_attach_type = U32(info[4]);
  strncpy(attr.prog_name, name.c_str(), sizeof attr.prog_name - 1);
  long fd = Bpf(BPF_PROG_LOAD, &attr, sizeof attr);
  if (fd >= 0) return Napi::Number::New(env, static_cast<double>(fd));
  // Loaded again with a log, only to say why: the verifier's explanation is the useful part of the error.
  int error = errno;
  std::vector<char> log(kLogSize, '\0');
  attr.log_level = 1;
  attr.log_size = static_cast<uint32_t>(log.size());
  attr.log_buf = reinterpret_cast<uint64_t>(log.data());
  long again = Bpf(BPF_PROG_LOAD, &attr, sizeof attr);
  if (again >= 0) close(static_cast<int>(again));
  log.back() = '\0';
  Napi::Error failure = ErrnoError(env, "bpf(BPF_PROG_LOAD) " + name, error);
  failure.Set("log", Napi::String::New(env, log.data()));
  failure.ThrowAsJavaScriptException();
  return env.Undefined();
}

// Attaching may wait in the kernel (cgroup_mutex, the effective programs of every descendant cgroup recomputed), so
// it runs on libuv's thread pool.
class AttachWorker : public Napi::AsyncWorker {
 public:
  AttachWorker(Napi::Env env, const union bpf_attr& attr)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), attr_(attr) {}

  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override { error_ = Bpf(BPF_PROG_ATTACH, &attr_, sizeof attr_) < 0 ? errno : 0; }

  void OnOK() override {
    Napi::Env env = Env();
    if (error_ == 0) {
      deferred_.Resolve(env.Undefined());
      return;
    }
    deferred_.Reject(ErrnoError(env, "bpf(BPF_PROG_ATTACH)", error_).Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  union bpf_attr attr_;
  int error_ = 0;
};

Napi::Value BpfProgAttach(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!NumbersOnly(info, 4)) {
    return ThrowTypeError(env, "bpfProgAttach(target: number, progFd: number, attachType: number, flags: number)");
  }
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.target_fd = U32(info[0]);
  attr.attach_bpf_fd = U32(info[1]);
  attr.attach_type = U32(info[2]);
  attr.attach_flags = U32(info[3]);
  auto* worker = new AttachWorker(env, attr);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

Napi::Value InterfaceIndex(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 1 || !info[0].IsString()) {
    return ThrowTypeError(env, "interfaceIndex(name: string)");
  }
  std::string name = info[0].As<Napi::String>().Utf8Value();
  return Napi::Number::New(env, if_nametoindex(name.c_str()));
}

}  // namespace minictr
