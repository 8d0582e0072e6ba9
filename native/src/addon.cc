// The addon's surface: the system calls minictr cannot make from Node. TypeScript decides and validates every value
// (src/container/spec.ts, plan.ts, join-request.ts); each function here checks only the shape of its arguments
// (options.h), so that no C++ below reads a value of the wrong type, a C string cut short by a NUL, or a number too
// wide for its C type. The one exception is what confines a layer's writes to its root (unpack.cc).
//
//   spawn(options)                → {pid, pidfd, releaseFd, errorFd, monitorPid, handoffFd, consoleFd}: clone() with
//                                   the child blocked on its release pipe (spawn.cc; -d's monitor: launcher.cc)
//   spawnExec(options)            → the same, for a process joining a running container (`minictr exec`, join.cc)
//   release(releaseFd, errorFd)   → Promise<null | {step, errno, message}>: "go", then wait for the exec
//   abort(releaseFd, errorFd)     → null | {step, errno, message}: closes both (the child exits without running
//                                   anything), and says what it reported if it had failed already
//   watchExit(pidfd, callback)    → undefined: callback({exitCode, signal}) on exit (wait.cc)
//   watchGone(pidfd, callback)    → cancel(): callback(null | Error) on exit; no reaping (wait.cc)
//   receiveTerminal, resizePty                                    -t's pseudo-terminal (pty.cc)
//   openPipe()                    → [read, write]                 exec's stdio, relayed when it is a terminal
//   exitNow(code)                 → never: _exit(code)             the end of a run, without Node's own exit
//   closeOnExecFrom(first)        → undefined                      no inherited descriptor reaches a spawned helper
//   signalProcess(pid, startTime, signal) → boolean                a recorded process, never another (proc.cc)
//   openProcess(pid, startTime)   → number | null                  a pidfd on a recorded process (proc.cc)
//   lockDirectory(path)           → number                         a descriptor holding flock on it (lock.cc)
//   unpackCreate, unpackFinish, unpackTimes                        a layer's writes, confined to its root (unpack.cc)
//   isOpaqueDirectory(path)       → boolean                        overlayfs's opaque mark on a layer directory (unpack.cc)
//   zstdStream, zstdDecompress                                     zstd-compressed layers (zstd.cc)
//   bpfProgLoad, bpfProgAttach, interfaceIndex                     bpf(2) for the eBPF programs (bpf.cc)
//   openInRoot(rootFd, path)      → number                         a path opened confined to a root (root_open.cc)
//   netlinkSocket, netlinkSend, netlinkReceive, errnoDescription   a netlink socket; messages are TypeScript's (netlink.cc)
//   nftRun, nftLoad, nftGeneration                                 libnftables (loaded ahead on the thread pool) and the ruleset's generation (nftables.cc)
//
// The TypeScript side of this contract is src/native/types.ts; errors.h says how every function fails.
#include <arpa/inet.h>
#include <sys/resource.h>
#include <napi.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "bpf.h"
#include "child.h"
#include "errors.h"
#include "fd.h"
#include "helper_spawn.h"
#include "lock.h"
#include "netlink.h"
#include "nftables.h"
#include "options.h"
#include "port_probe.h"
#include "proc.h"
#include "pty.h"
#include "root_open.h"
#include "spawn.h"
#include "oci.h"
#include "unpack.h"
#include "wait.h"
#include "zstd.h"

namespace minictr {

namespace {

uint32_t Ipv4(Options& options, const char* key) {
  std::string text = options.String(key);
  struct in_addr address {};
  if (inet_pton(AF_INET, text.c_str(), &address) != 1) options.Report(key, "an IPv4 address");
  return address.s_addr;
}

// An IPv6 address option, as its 16 bytes in network order.
void Ipv6(Options& options, const char* key, uint8_t (&target)[16]) {
  std::string text = options.String(key);
  if (inet_pton(AF_INET6, text.c_str(), target) != 1) options.Report(key, "an IPv6 address");
}

// The process part of spawn()'s options: identity, security profile, the program. (An exec'd process has the same
// parts, in the request its joiner reads: join-request.ts.)
void ParseProcess(Options& options, SpawnRequest* request) {
  Options security = options.Object("security");
  request->privileged = security.Bool("privileged");
  security.Each("capabilities", [&](Napi::Value cap, const std::string& name) {
    request->capabilities |= uint64_t{1} << static_cast<int>(security.IntegerOf(cap, name, 0, 63));
  });
  request->read_only = security.Bool("readOnly");
  if (!security.IsNull("user")) {
    Options user = security.Object("user");
    request->switch_user = true;
    request->uid = static_cast<uint32_t>(user.Integer("uid", 0, kMaxId));
    request->gid = static_cast<uint32_t>(user.Integer("gid", 0, kMaxId));
  }
  request->workdir = options.String("workdir");
  request->exec_path = options.String("execPath");
  request->argv = options.ByteStrings("argv");
  request->env = options.ByteStrings("env");
  request->helper_path = options.String("helper");
}

// -v, --mount, --tmpfs: what the child mounts, parents first (SpawnOptions['mounts']). Their meaning (absolute,
// normalised targets; sources that exist) is src/container/mounts.ts's; the child refuses a target too long for it.
void ParseMounts(Options& options, SpawnRequest* request) {
  options.EachObject("mounts", [&](Options& entry) {
    std::string kind = entry.String("kind");
    if (kind != "bind" && kind != "tmpfs") entry.Report("kind", "'bind' or 'tmpfs'");
    request->mounts.push_back(SpawnRequest::Mount{kind == "bind" ? kMountBind : kMountTmpfs, entry.String("source"),
                                                  entry.String("target"), entry.Bool("readOnly"), entry.String("data")});
  });
}

// The `cgroup` option (CgroupEntry in src/native/types.ts, or null): descriptors the caller opened and keeps.
// `tasks` (cgroup v1) only where the child joins them itself: not for spawnExec, whose joiner reads paths.
void ParseCgroup(Options& options, SpawnRequest* request, bool tasks) {
  if (options.IsNull("cgroup")) return;
  Options cgroup = options.Object("cgroup");
  if (tasks && !cgroup.IsUndefined("tasks")) {
    cgroup.Each("tasks", [&](Napi::Value fd, const std::string& name) {
      request->cgroup_tasks.push_back(static_cast<int>(cgroup.IntegerOf(fd, name, 0, INT32_MAX)));
    });
    if (request->cgroup_tasks.size() > kMaxCgroupTasks) cgroup.Report("tasks", "at most 12 descriptors");
    return;
  }
  request->cgroup_dir = static_cast<int>(cgroup.Integer("directory", 0, INT32_MAX));
}

// spawn()'s options: SpawnOptions in src/native/types.ts.
void ParseSpawnRequest(Options& options, SpawnRequest* request) {
  request->new_network = options.Bool("newNetwork");
  request->hostname = options.String("hostname");
  if (!options.IsNull("interface")) {
    Options iface = options.Object("interface");
    request->configure_interface = true;
    request->ifname = iface.String("name");
    request->address = Ipv4(iface, "address");
    int prefix = static_cast<int>(iface.Integer("prefixLength", 1, 32));
    request->netmask = htonl(~0u << (32 - prefix));
    request->gateway = Ipv4(iface, "gateway");
    if (!iface.IsNull("ipv6")) {
      Options ipv6 = iface.Object("ipv6");
      request->configure_ipv6 = true;
      Ipv6(ipv6, "address", request->address6);
      request->prefix6 = static_cast<uint8_t>(ipv6.Integer("prefixLength", 1, 128));
      Ipv6(ipv6, "gateway", request->gateway6);
    }
  }
  // The container's root, the read-only layers topmost first; src/container/overlay.ts decided how to mount it.
  Options overlay = options.Object("overlay");
  request->overlay.target = overlay.String("target");
  request->overlay.lower = overlay.Strings("lower");
  request->overlay.upper = overlay.String("upper");
  request->overlay.work = overlay.String("work");
  request->overlay.volatile_upper = overlay.Bool("volatile");
  request->overlay.lowerdir_plus = overlay.Bool("lowerdirPlus");
  if (!overlay.IsNull("options")) request->overlay.options = overlay.String("options");
  options.EachObject("etcFiles", [&](Options& file) {
    std::string path = file.String("path");
    request->etc_files.emplace_back(path, file.String("content"));
  });
  options.EachObject("devices", [&](Options& node) {
    SpawnRequest::Device device;
    device.path = node.String("path");
    device.block = node.String("type") == "b";
    device.major = static_cast<uint32_t>(node.Integer("major", 0, UINT32_MAX));
    device.minor = static_cast<uint32_t>(node.Integer("minor", 0, UINT32_MAX));
    device.mode = static_cast<uint32_t>(node.Integer("mode", 0, 07777));  // permission bits: the type is the addon's
    request->devices.push_back(device);
  });
  ParseMounts(options, request);
  ParseProcess(options, request);
  ParseCgroup(options, request, true);
  request->init = options.Bool("init");
  if (!options.IsNull("terminal")) {
    Options size = options.Object("terminal");
    request->terminal = true;
    request->rows = static_cast<unsigned short>(size.Integer("rows", 1, 65535));
    request->columns = static_cast<unsigned short>(size.Integer("columns", 1, 65535));
  }
  if (!options.IsNull("monitor")) {
    Options monitor = options.Object("monitor");
    request->monitor_path = monitor.String("path");
    request->monitor_log = monitor.String("log");
    request->monitor_argv = monitor.Strings("argv");
    request->monitor_env = monitor.Strings("env");
    request->keep_stdin = monitor.Bool("keepStdin");
  }
}

// spawnExec()'s options: ExecOptions in src/native/types.ts. What the process is and does travels in `request`,
// which minictr-init's join mode parses (join.cc).
void ParseExecRequest(Options& options, SpawnRequest* request) {
  request->join_pid = static_cast<int>(options.Integer("pid", 1, INT32_MAX));
  request->join_start_time = static_cast<uint64_t>(options.Integer("startTime", 0, 9007199254740991.0));
  request->helper_path = options.String("helper");
  request->terminal = options.Bool("terminal");
  int count = 0;
  options.Each("stdio", [&](Napi::Value fd, const std::string& name) {
    int value = static_cast<int>(options.IntegerOf(fd, name, -1, INT32_MAX));
    if (count < 3) request->exec_stdio[count] = value;
    count++;
  });
  if (count != 3) options.Report("stdio", "an array of three descriptors (-1: inherit)");
  if (!options.IsUndefined("consoleSocket")) request->console_socket = options.String("consoleSocket");
  request->join_request = options.Buffer("request");
  ParseCgroup(options, request, false);
}

// spawnOci()'s options: OciSpawnOptions in src/native/types.ts (built from config.json by src/oci/config.ts).
void ParseOciRequest(Options& options, OciRequest* request) {
  SpawnRequest& process = request->process;
  process.hostname = options.String("hostname");
  options.EachObject("devices", [&](Options& node) {
    SpawnRequest::Device device;
    device.path = node.String("path");
    std::string type = node.String("type");
    device.block = type == "b";
    device.fifo = type == "p";
    device.major = static_cast<uint32_t>(node.Integer("major", 0, UINT32_MAX));
    device.minor = static_cast<uint32_t>(node.Integer("minor", 0, UINT32_MAX));
    device.mode = static_cast<uint32_t>(node.Integer("mode", 0, 07777));
    process.devices.push_back(device);
  });
  process.workdir = options.String("workdir");
  process.read_only = options.Bool("readOnly");
  if (!options.IsNull("user")) {
    Options user = options.Object("user");
    process.switch_user = true;
    process.uid = static_cast<uint32_t>(user.Integer("uid", 0, kMaxId));
    process.gid = static_cast<uint32_t>(user.Integer("gid", 0, kMaxId));
    user.Each("additionalGids", [&](Napi::Value gid, const std::string& name) {
      request->additional_gids.push_back(static_cast<uint32_t>(user.IntegerOf(gid, name, 0, kMaxId)));
    });
  }
  process.exec_path = options.String("execPath");
  process.argv = options.ByteStrings("argv");
  process.env = options.ByteStrings("env");
  process.helper_path = options.String("helper");
  Options size = options.Object("consoleSize");
  process.rows = static_cast<unsigned short>(size.Integer("rows", 0, 65535));
  process.columns = static_cast<unsigned short>(size.Integer("columns", 0, 65535));
  request->console_socket = options.String("consoleSocket");
  request->root = options.String("root");
  request->root_propagation = static_cast<unsigned long>(options.Integer("rootPropagation", 0, UINT32_MAX));
  request->dev_links = options.Bool("devLinks");
  request->clone_flags = static_cast<uint64_t>(options.Integer("cloneFlags", 0, UINT32_MAX));
  options.EachObject("join", [&](Options& entry) {
    request->joined.emplace_back(static_cast<int>(entry.Integer("type", 0, INT32_MAX)), entry.String("path"));
  });
  options.EachObject("mounts", [&](Options& entry) {
    request->mounts.push_back(OciRequest::Mount{
        entry.String("source"), entry.String("target"), entry.String("type"), entry.String("data"),
        static_cast<unsigned long>(entry.Integer("flags", 0, UINT32_MAX)),
        static_cast<unsigned long>(entry.Integer("propagation", 0, UINT32_MAX))});
  });
  Options caps = options.Object("capabilities");
  uint64_t* sets[] = {&request->bounding, &request->effective, &request->permitted, &request->inheritable,
                      &request->ambient};
  const char* names[] = {"bounding", "effective", "permitted", "inheritable", "ambient"};
  for (int i = 0; i < 5; i++) {
    caps.Each(names[i], [&](Napi::Value cap, const std::string& name) {
      *sets[i] |= uint64_t{1} << static_cast<int>(caps.IntegerOf(cap, name, 0, 63));
    });
  }
  request->no_new_privileges = options.Bool("noNewPrivileges");
  request->masked_paths = options.Strings("maskedPaths");
  request->readonly_paths = options.Strings("readonlyPaths");
  options.EachObject("sysctl", [&](Options& entry) {
    request->sysctl.emplace_back(entry.String("path"), entry.String("value"));
  });
  options.EachObject("rlimits", [&](Options& entry) {
    // 2^53-1, the largest integer JavaScript holds exactly, stands for RLIM_INFINITY (src/oci/config.ts).
    constexpr double kInfinity = 9007199254740991.0;
    auto limit = [&](const char* key) {
      double value = entry.Integer(key, 0, kInfinity);
      return value == kInfinity ? RLIM_INFINITY : static_cast<uint64_t>(value);
    };
    request->rlimits.push_back(OciRequest::Rlimit{static_cast<int>(entry.Integer("resource", 0, 64)), limit("soft"),
                                                  limit("hard")});
  });
  request->seccomp = options.Buffer("seccomp");
  if (request->seccomp.size() % sizeof(sock_filter) != 0) options.Report("seccomp", "whole sock_filter instructions");
  request->exec_fifo = options.String("execFifo");
  request->preserve_fds = static_cast<int>(options.Integer("preserveFds", 0, 1024));
  ParseCgroup(options, &process, true);
}

// spawn, spawnExec and spawnOci: parse the options into a request, spawn, return the descriptors (those a spawner
// does not open stay -1).
template <typename Request>
Napi::Value SpawnWith(const Napi::CallbackInfo& info, const char* name, void (*parse)(Options&, Request*),
                      int (*spawn)(const Request&, SpawnResult*, const char**)) {
  Napi::Env env = info.Env();
  if (info.Length() != 1 || !info[0].IsObject()) return ThrowTypeError(env, std::string(name) + "(options: object)");
  Request request;
  std::string problem;
  Options options(info[0].As<Napi::Object>(), "", &problem);
  parse(options, &request);
  if (!problem.empty()) return ThrowTypeError(env, std::string(name) + ": " + problem);
  SpawnResult result;
  const char* what = "";
  int error = spawn(request, &result, &what);
  if (error != 0) {
    // `syscall` names the step, which exec.ts maps to the object it concerns.
    Napi::Error failure = ErrnoError(env, what, error);
    failure.Set("syscall", Napi::String::New(env, what));
    failure.ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("pid", result.pid);
  out.Set("pidfd", result.pidfd);
  out.Set("releaseFd", result.release_fd);
  out.Set("errorFd", result.error_fd);
  out.Set("monitorPid", result.monitor_pid);
  out.Set("handoffFd", result.handoff_fd);
  out.Set("consoleFd", result.console_fd);
  return out;
}

Napi::Value SpawnFunction(const Napi::CallbackInfo& info) { return SpawnWith(info, "spawn", ParseSpawnRequest, Spawn); }

Napi::Value SpawnExecFunction(const Napi::CallbackInfo& info) {
  return SpawnWith(info, "spawnExec", ParseExecRequest, SpawnExec);
}

Napi::Value SpawnOciFunction(const Napi::CallbackInfo& info) {
  return SpawnWith(info, "spawnOci", ParseOciRequest, SpawnOci);
}

// openPipe() → [readFd, writeFd], both close-on-exec: the ends minictr relays `exec`'s stdio through.
Napi::Value OpenPipe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Pipe pipe;
  if (!pipe.Open()) return ThrowErrno(env, "pipe2", errno);
  Napi::Array result = Napi::Array::New(env, 2);
  result.Set(0u, Napi::Number::New(env, pipe.read.release()));
  result.Set(1u, Napi::Number::New(env, pipe.write.release()));
  return result;
}

// A ChildFailure (src/native/types.ts), or null for step 0.
Napi::Value FailureValue(Napi::Env env, const ReleaseOutcome& outcome) {
  if (outcome.step == 0) return env.Null();
  Napi::Object failure = Napi::Object::New(env);
  failure.Set("step", ChildStepName(outcome.step));
  failure.Set("errno", outcome.error);
  failure.Set("message", strerror(outcome.error));
  return failure;
}

// exitNow(code) → never: _exit(code). Once minictr's work is done, its output flushed and its 'exit' listeners
// run, Node's own exit (joining the platform's threads, exit hooks, C++ destructors) took 2 ms more of every run.
Napi::Value ExitNow(const Napi::CallbackInfo& info) {
  if (info.Length() != 1 || !info[0].IsNumber()) return ThrowTypeError(info.Env(), "exitNow(code: number)");
  _exit(info[0].As<Napi::Number>().Int32Value() & 0xff);
}

// closeOnExecFrom(first): marks every descriptor from `first` on close-on-exec (MarkAllCloseOnExec), so that no
// process this one starts with child_process inherits one that minictr's caller left inheritable (libuv closes none).
Napi::Value CloseOnExecFrom(const Napi::CallbackInfo& info) {
  if (info.Length() != 1 || !info[0].IsNumber()) return ThrowTypeError(info.Env(), "closeOnExecFrom(first: number)");
  MarkAllCloseOnExec(info[0].As<Napi::Number>().Int32Value());
  return info.Env().Undefined();
}

// Release blocks until the child execs (a few milliseconds of mounts), so it runs on the libuv thread pool.
class ReleaseWorker : public Napi::AsyncWorker {
 public:
  ReleaseWorker(Napi::Env env, int release_fd, int error_fd)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), release_fd_(release_fd),
        error_fd_(error_fd) {}

  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override { outcome_ = Release(release_fd_, error_fd_); }

  void OnOK() override { deferred_.Resolve(FailureValue(Env(), outcome_)); }

 private:
  Napi::Promise::Deferred deferred_;
  int release_fd_;
  int error_fd_;
  ReleaseOutcome outcome_;
};

bool ArgsAreNumbers(const Napi::CallbackInfo& info, size_t count) {
  if (info.Length() != count) return false;
  for (size_t i = 0; i < count; i++) {
    if (!info[i].IsNumber()) return false;
  }
  return true;
}

Napi::Value ReleaseFunction(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!ArgsAreNumbers(info, 2)) return ThrowTypeError(env, "release(releaseFd: number, errorFd: number)");
  auto* worker =
      new ReleaseWorker(env, info[0].As<Napi::Number>().Int32Value(), info[1].As<Napi::Number>().Int32Value());
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

Napi::Value AbortFunction(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!ArgsAreNumbers(info, 2)) return ThrowTypeError(env, "abort(releaseFd: number, errorFd: number)");
  // EOF on its release pipe: the child exits without running anything. It may have failed already (its cgroup):
  // what it reported is returned, since that failure may be what made a step of minictr's fail.
  int error_fd = info[1].As<Napi::Number>().Int32Value();
  ReleaseOutcome sent = SentReport(error_fd);
  close(info[0].As<Napi::Number>().Int32Value());
  close(error_fd);
  return FailureValue(env, sent);
}

}  // namespace

}  // namespace minictr

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("spawn", Napi::Function::New(env, minictr::SpawnFunction, "spawn"));
  exports.Set("spawnExec", Napi::Function::New(env, minictr::SpawnExecFunction, "spawnExec"));
  exports.Set("spawnOci", Napi::Function::New(env, minictr::SpawnOciFunction, "spawnOci"));
  exports.Set("openPipe", Napi::Function::New(env, minictr::OpenPipe, "openPipe"));
  exports.Set("exitNow", Napi::Function::New(env, minictr::ExitNow, "exitNow"));
  exports.Set("closeOnExecFrom", Napi::Function::New(env, minictr::CloseOnExecFrom, "closeOnExecFrom"));
  exports.Set("release", Napi::Function::New(env, minictr::ReleaseFunction, "release"));
  exports.Set("abort", Napi::Function::New(env, minictr::AbortFunction, "abort"));
  exports.Set("watchExit", Napi::Function::New(env, minictr::WatchExit, "watchExit"));
  exports.Set("watchGone", Napi::Function::New(env, minictr::WatchGone, "watchGone"));
  exports.Set("receiveTerminal", Napi::Function::New(env, minictr::ReceiveTerminal, "receiveTerminal"));
  exports.Set("signalProcess", Napi::Function::New(env, minictr::SignalProcess, "signalProcess"));
  exports.Set("openProcess", Napi::Function::New(env, minictr::OpenProcess, "openProcess"));
  exports.Set("lockDirectory", Napi::Function::New(env, minictr::LockDirectory, "lockDirectory"));
  exports.Set("resizePty", Napi::Function::New(env, minictr::ResizePty, "resizePty"));
  exports.Set("unpackCreate", Napi::Function::New(env, minictr::UnpackCreate, "unpackCreate"));
  exports.Set("unpackFinish", Napi::Function::New(env, minictr::UnpackFinish, "unpackFinish"));
  exports.Set("unpackTimes", Napi::Function::New(env, minictr::UnpackTimes, "unpackTimes"));
  exports.Set("isOpaqueDirectory", Napi::Function::New(env, minictr::IsOpaqueDirectory, "isOpaqueDirectory"));
  exports.Set("zstdStream", Napi::Function::New(env, minictr::ZstdStream, "zstdStream"));
  exports.Set("zstdDecompress", Napi::Function::New(env, minictr::ZstdDecompress, "zstdDecompress"));
  exports.Set("bpfProgLoad", Napi::Function::New(env, minictr::BpfProgLoad, "bpfProgLoad"));
  exports.Set("bpfProgAttach", Napi::Function::New(env, minictr::BpfProgAttach, "bpfProgAttach"));
  exports.Set("interfaceIndex", Napi::Function::New(env, minictr::InterfaceIndex, "interfaceIndex"));
  exports.Set("openInRoot", Napi::Function::New(env, minictr::OpenInRootFunction, "openInRoot"));
  exports.Set("netlinkSocket", Napi::Function::New(env, minictr::NetlinkSocket, "netlinkSocket"));
  exports.Set("netlinkSend", Napi::Function::New(env, minictr::NetlinkSend, "netlinkSend"));
  exports.Set("netlinkReceive", Napi::Function::New(env, minictr::NetlinkReceive, "netlinkReceive"));
  exports.Set("errnoDescription", Napi::Function::New(env, minictr::ErrnoDescription, "errnoDescription"));
  exports.Set("nftRun", Napi::Function::New(env, minictr::NftRun, "nftRun"));
  exports.Set("nftLoad", Napi::Function::New(env, minictr::NftLoad, "nftLoad"));
  exports.Set("nftGeneration", Napi::Function::New(env, minictr::NftGeneration, "nftGeneration"));
  exports.Set("probePort", Napi::Function::New(env, minictr::ProbePort, "probePort"));
  exports.Set("spawnHelper", Napi::Function::New(env, minictr::SpawnHelper, "spawnHelper"));
  return exports;
}

NODE_API_MODULE(minictr, Init)
