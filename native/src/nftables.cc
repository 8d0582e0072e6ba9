// libnftables and NFT_MSG_GETGEN (see nftables.h). The script is built in TypeScript (src/network/firewall.ts);
// this file hands it over and returns what nft would have printed.
//
// libnftables is opened with dlopen on the first nftRun: a bridged run whose ruleset is where it was last seen only
// asks for the generation, and loading the library with its five dependencies (libnftnl, libmnl, libxtables,
// libjansson, libgmp) when the addon loads cost every run about 0.6 ms. A run that will call it (-p) asks for it
// early with nftLoad, which opens it and creates the context on libuv's thread pool (about 1 ms) while the main
// thread goes on with the run; a mutex makes nftRun wait for a load still under way.
//
// Both netlink sockets (libnftables' own, inside its context, and the one asking for the generation) stay open
// for the life of the process: closing an nfnetlink socket makes the kernel wait for the pending destruction of
// deleted objects (an RCU grace period, 10-20 ms), which a run must not pay between two calls.
#include "nftables.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <nftables/libnftables.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <set>
#include <string>

#include "dl.h"
#include "errors.h"

namespace minictr {

namespace {

// The libnftables functions this file calls, found with dlsym once the library is open.
struct Library {
  decltype(&nft_ctx_new) ctxNew;
  decltype(&nft_ctx_output_set_flags) outputSetFlags;
  decltype(&nft_ctx_set_output) setOutput;
  decltype(&nft_ctx_set_error) setError;
  decltype(&nft_run_cmd_from_buffer) runCmdFromBuffer;
};

Library library{};
nft_ctx* context = nullptr;
// Held while library and context are made or used: by nftLoad's worker thread and by nftRun.
std::mutex contextMutex;
int generationSocket = -1;
uint32_t generationSequence = 0;

// What libnftables wrote to one stream during a call (open_memstream: growing buffer, freed here).
class Capture {
 public:
  Capture() : stream_(open_memstream(&buffer_, &size_)) {}
  ~Capture() {
    if (stream_ != nullptr) fclose(stream_);
    free(buffer_);
  }
  FILE* stream() const { return stream_; }
  std::string text() {
    fflush(stream_);
    return buffer_ == nullptr ? std::string() : std::string(buffer_, size_);
  }

 private:
  char* buffer_ = nullptr;
  size_t size_ = 0;
  FILE* stream_;
};

// Opens libnftables (the soname libnftables-dev links against) and finds its functions; nullptr and the reason
// when it cannot. The handle stays open for the process.
const char* OpenLibrary() {
  if (library.ctxNew != nullptr) return nullptr;
  void* handle = dlopen("libnftables.so.1", RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) return dlerror();
  Library found{};
  Symbols symbols(handle);
  symbols.Find(found.ctxNew, "nft_ctx_new");
  symbols.Find(found.outputSetFlags, "nft_ctx_output_set_flags");
  symbols.Find(found.setOutput, "nft_ctx_set_output");
  symbols.Find(found.setError, "nft_ctx_set_error");
  symbols.Find(found.runCmdFromBuffer, "nft_run_cmd_from_buffer");
  if (symbols.failure() != nullptr) return symbols.failure();
  library = found;
  return nullptr;
}

// The descriptors open in this process now.
std::set<int> OpenDescriptors() {
  std::set<int> fds;
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return fds;
  while (dirent* entry = readdir(dir)) {
    int fd = atoi(entry->d_name);
    if (entry->d_name[0] != '.' && fd != dirfd(dir)) fds.insert(fd);  // not the listing's own descriptor
  }
  closedir(dir);
  return fds;
}

// libnftables opens (and may reopen) its netlink socket without close-on-exec: whatever descriptor appeared since
// `before` gets it, or every program minictr starts later (the monitor, helpers) would inherit the socket.
void CloseOnExecSince(const std::set<int>& before) {
  for (int fd : OpenDescriptors()) {
    if (before.count(fd) == 0) fcntl(fd, F_SETFD, fcntl(fd, F_GETFD) | FD_CLOEXEC);
  }
}

// Why the context could not be made: a message, and the errno of nft_ctx_new (0 for a library that would not load).
struct ContextFailure {
  std::string message;
  int error = 0;
};

// Opens the library and creates the context, once. The caller holds contextMutex.
ContextFailure MakeContext() {
  if (context != nullptr) return {};
  if (const char* failure = OpenLibrary()) return {std::string("load libnftables.so.1 (install libnftables1): ") + failure, 0};
  context = library.ctxNew(NFT_CTX_DEFAULT);
  if (context == nullptr) return {"nft_ctx_new", errno != 0 ? errno : ENOMEM};
  return {};
}

Napi::Value ThrowContextFailure(Napi::Env env, const ContextFailure& failure) {
  if (failure.error != 0) return ThrowErrno(env, failure.message.c_str(), failure.error);
  Napi::Error::New(env, failure.message).ThrowAsJavaScriptException();
  return env.Undefined();
}

class LoadWorker : public Napi::AsyncWorker {
 public:
  explicit LoadWorker(Napi::Env env) : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)) {}

  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    std::lock_guard<std::mutex> lock(contextMutex);
    std::set<int> before = OpenDescriptors();
    failure_ = MakeContext();
    CloseOnExecSince(before);
  }

  void OnOK() override {
    Napi::Env env = Env();
    if (failure_.message.empty()) {
      deferred_.Resolve(env.Undefined());
      return;
    }
    Napi::Error error = failure_.error != 0 ? ErrnoError(env, failure_.message.c_str(), failure_.error) : Napi::Error::New(env, failure_.message);
    deferred_.Reject(error.Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  ContextFailure failure_;
};

}  // namespace

Napi::Value NftLoad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 0) return ThrowTypeError(env, "nftLoad()");
  auto* worker = new LoadWorker(env);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

Napi::Value NftRun(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 3 || !info[0].IsString() || !info[1].IsBoolean() || !info[2].IsBoolean()) {
    return ThrowTypeError(env, "nftRun(script: string, json: boolean, terse: boolean)");
  }
  std::string script = info[0].As<Napi::String>().Utf8Value();
  if (script.find('\0') != std::string::npos) return ThrowTypeError(env, "nftRun: the script contains a NUL byte");
  std::lock_guard<std::mutex> lock(contextMutex);
  std::set<int> before = OpenDescriptors();
  ContextFailure failure = MakeContext();
  if (!failure.message.empty()) {
    CloseOnExecSince(before);
    return ThrowContextFailure(env, failure);
  }
  Capture output;
  Capture error;
  if (output.stream() == nullptr || error.stream() == nullptr) return ThrowErrno(env, "open_memstream", errno);
  unsigned int flags = 0;
  if (info[1].As<Napi::Boolean>()) flags |= NFT_CTX_OUTPUT_JSON;
  if (info[2].As<Napi::Boolean>()) flags |= NFT_CTX_OUTPUT_TERSE;
  library.outputSetFlags(context, flags);
  library.setOutput(context, output.stream());
  library.setError(context, error.stream());
  int status = library.runCmdFromBuffer(context, script.c_str());
  CloseOnExecSince(before);
  // The context must not keep streams that are closed below.
  library.setOutput(context, stdout);
  library.setError(context, stderr);
  Napi::Object result = Napi::Object::New(env);
  result.Set("ok", Napi::Boolean::New(env, status == 0));
  result.Set("output", Napi::String::New(env, output.text()));
  result.Set("error", Napi::String::New(env, error.text()));
  return result;
}

Napi::Value NftGeneration(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 0) return ThrowTypeError(env, "nftGeneration()");
  if (generationSocket < 0) {
    generationSocket = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
    if (generationSocket < 0) return ThrowErrno(env, "socket(NETLINK_NETFILTER)", errno);
  }
  uint64_t cookie = 0;
  socklen_t cookieSize = sizeof cookie;
  if (getsockopt(generationSocket, SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &cookieSize) != 0) {
    return ThrowErrno(env, "getsockopt(SO_NETNS_COOKIE)", errno);
  }
  struct {
    nlmsghdr header;
    nfgenmsg body;
  } request{};
  request.header.nlmsg_len = sizeof request;
  request.header.nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETGEN;
  request.header.nlmsg_flags = NLM_F_REQUEST;
  request.header.nlmsg_seq = ++generationSequence;
  request.body.nfgen_family = AF_UNSPEC;
  request.body.version = NFNETLINK_V0;
  if (send(generationSocket, &request, sizeof request, 0) != static_cast<ssize_t>(sizeof request)) {
    return ThrowErrno(env, "send(NFT_MSG_GETGEN)", errno);
  }
  alignas(nlmsghdr) char reply[512];
  for (;;) {
    ssize_t length = recv(generationSocket, reply, sizeof reply, 0);
    if (length < 0) return ThrowErrno(env, "recv(NFT_MSG_NEWGEN)", errno);
    auto* header = reinterpret_cast<nlmsghdr*>(reply);
    if (!NLMSG_OK(header, static_cast<size_t>(length)) || header->nlmsg_seq != generationSequence) continue;
    if (header->nlmsg_type == NLMSG_ERROR) {
      int error = -reinterpret_cast<nlmsgerr*>(NLMSG_DATA(header))->error;
      return ThrowErrno(env, "NFT_MSG_GETGEN", error != 0 ? error : EPROTO);
    }
    // The attributes follow the nfgenmsg: NFTA_GEN_ID is a big-endian u32.
    size_t offset = NLMSG_LENGTH(NLMSG_ALIGN(sizeof(nfgenmsg)));
    while (offset + sizeof(nlattr) <= header->nlmsg_len) {
      auto* attribute = reinterpret_cast<nlattr*>(reply + offset);
      if (attribute->nla_len < sizeof(nlattr) || offset + attribute->nla_len > header->nlmsg_len) break;
      if ((attribute->nla_type & NLA_TYPE_MASK) == NFTA_GEN_ID && attribute->nla_len >= NLA_HDRLEN + sizeof(uint32_t)) {
        uint32_t id;
        memcpy(&id, reply + offset + NLA_HDRLEN, sizeof id);
        Napi::Object result = Napi::Object::New(env);
        result.Set("netns", Napi::String::New(env, std::to_string(cookie)));
        result.Set("generation", Napi::Number::New(env, ntohl(id)));
        return result;
      }
      offset += NLA_ALIGN(attribute->nla_len);
    }
    return ThrowErrno(env, "NFT_MSG_NEWGEN without NFTA_GEN_ID", EPROTO);
  }
}

}  // namespace minictr
