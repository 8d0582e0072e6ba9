// The addon's surface, each function validating its arguments before touching the system.
//
//   spawn(options)              → {pid, pidfd, releaseFd, errorFd, monitorPid, handoffFd}   clone() with the child
//                                                                    blocked (see spawn.cc for -d's monitor)
//   spawnExec(options)          → the same, for a process joining a running container (`minictr exec`)
//   release(releaseFd, errorFd) → Promise<null | {step, errno, message}>   "go", then wait for exec
//   abort(releaseFd)            → undefined                           the child exits without running anything
//   watchExit(pidfd, callback)  → undefined                           callback({exitCode, signal}) on exit
//   watchGone(pidfd, callback)  → cancel()                            callback(null | Error) on exit; no reaping
//   receiveTerminal, resizePty                                       -t's pseudo-terminal (pty.cc)
//   openPipe()                   → [read, write]                     exec's stdio, relayed when it is a terminal
//   signalProcess(pid, startTime, signal) → boolean                  a recorded process, never another (proc.cc)
//   openProcess(pid, startTime)  → number | null                      a pidfd on a recorded process (proc.cc)
//   lockDirectory(path)          → number                             a descriptor holding flock on it (lock.cc)
//   unpackCreate, unpackFinish, unpackTimes                          a layer's writes, confined to its root (unpack.cc)
//   isOpaqueDirectory(path)      → boolean                           overlayfs's opaque mark on a layer directory (unpack.cc)
//   zstdStream, zstdDecompress                                       zstd-compressed layers (zstd.cc)
//   bpfProgLoad, bpfProgAttach, bpfProgDetach, bpfProgQuery, interfaceIndex   bpf(2) for the eBPF programs (bpf.cc)
//   openInRoot(rootFd, path)     → number                             a path opened confined to a root (root_open.cc)
//
// The TypeScript side of this contract is src/native/types.ts.
#include <arpa/inet.h>
#include <fcntl.h>
#include <napi.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <string>

#include "bpf.h"
#include "child.h"
#include "lock.h"
#include "proc.h"
#include "pty.h"
#include "root_open.h"
#include "spawn.h"
#include "unpack.h"
#include "wait.h"
#include "zstd.h"

namespace minictr {

namespace {

// Collects the first validation problem, naming the option, so the caller gets one clear TypeError.
class Validator {
 public:
  explicit Validator(Napi::Object object) : object_(object) {}

  bool ok() const { return problem_.empty(); }
  const std::string& problem() const { return problem_; }

  std::string String(const char* key) { return StringOf(object_.Get(key), key); }

  bool Bool(const char* key) {
    Napi::Value value = object_.Get(key);
    if (!value.IsBoolean()) Report(key, "a boolean");
    return value.IsBoolean() && value.As<Napi::Boolean>().Value();
  }

  std::vector<std::string> Strings(const char* key) {
    std::vector<std::string> strings;
    Napi::Value value = object_.Get(key);
    if (!value.IsArray()) {
      Report(key, "an array of strings");
      return strings;
    }
    Napi::Array array = value.As<Napi::Array>();
    for (uint32_t i = 0; i < array.Length(); i++) strings.push_back(StringOf(array.Get(i), key));
    return strings;
  }

  // The command's argv and env: Buffers, so that bytes that are not UTF-8 reach execve() as they are. Their number
  // and size are the kernel's to limit (E2BIG at exec), not this function's.
  std::vector<std::string> ByteStrings(const char* key) {
    std::vector<std::string> strings;
    Napi::Value value = object_.Get(key);
    if (!value.IsArray()) {
      Report(key, "an array of Buffers");
      return strings;
    }
    Napi::Array array = value.As<Napi::Array>();
    strings.reserve(array.Length());
    for (uint32_t i = 0; i < array.Length(); i++) {
      Napi::Value item = array.Get(i);
      if (!item.IsBuffer()) {
        Report(key, "an array of Buffers");
        return strings;
      }
      Napi::Buffer<char> bytes = item.As<Napi::Buffer<char>>();
      strings.emplace_back(bytes.Data(), bytes.Length());
      if (strings.back().find('\0') != std::string::npos) Report(key, "an array of Buffers without NUL bytes");
    }
    return strings;
  }

  Napi::Object Object(const char* key) {
    Napi::Value value = object_.Get(key);
    if (!value.IsObject()) {
      Report(key, "an object");
      return Napi::Object::New(object_.Env());
    }
    return value.As<Napi::Object>();
  }

  std::string Helper() {
    std::string path = String("helper");
    if (ok() && path.rfind("/", 0) != 0) Report("helper", "the absolute path of minictr-init");
    return path;
  }

  uint32_t Ipv4(const char* key) {
    std::string text = String(key);
    struct in_addr address {};
    if (ok() && inet_pton(AF_INET, text.c_str(), &address) != 1) Report(key, "an IPv4 address");
    return address.s_addr;
  }

  // Read as a double: N-API turns NaN into 0 when asked for an integer, and 0 is root.
  uint32_t Id(const char* key) {
    Napi::Value value = object_.Get(key);
    double id = value.IsNumber() ? value.As<Napi::Number>().DoubleValue() : -1;
    if (!(id >= 0 && id <= 0xfffffffe) || id != std::floor(id)) {
      Report(key, "a user or group id from 0 to 4294967294");
      return 0;
    }
    return static_cast<uint32_t>(id);
  }

  uint32_t Netmask(const char* key) {
    Napi::Value value = object_.Get(key);
    int32_t prefix = value.IsNumber() ? value.As<Napi::Number>().Int32Value() : -1;
    if (prefix < 1 || prefix > 32) {
      Report(key, "a prefix length from 1 to 32");
      return 0;
    }
    return htonl(prefix == 32 ? 0xffffffffu : ~(0xffffffffu >> prefix));
  }

  // Overlay options are comma separated and colons separate lower layers: paths must contain neither.
  std::string OverlayPath(Napi::Object overlay, const char* key) {
    std::string path = StringOf(overlay.Get(key), key);
    if (path.empty() || path[0] != '/' || path.find_first_of(",:\\") != std::string::npos) {
      Report(key, "an absolute path without ',', ':' or '\\'");
    }
    return path;
  }

  void Report(const std::string& key, const char* expected) {
    if (problem_.empty()) problem_ = "spawn: option '" + key + "' must be " + expected;
  }

 private:
  std::string StringOf(Napi::Value value, const char* key) {
    if (!value.IsString()) {
      Report(key, "a string");
      return "";
    }
    std::string text = value.As<Napi::String>().Utf8Value();
    if (text.find('\0') != std::string::npos) Report(key, "a string without NUL bytes");
    return text;
  }

  Napi::Object object_;
  std::string problem_;
};

// What a container's first process and an exec'd process share: identity, security profile, the program and its
// stdio.
void ParseProcess(Napi::Object options, Validator& v, SpawnRequest* request) {
  Validator security(v.Object("security"));
  request->privileged = security.Bool("privileged");
  Napi::Value caps = v.Object("security").Get("capabilities");
  if (!caps.IsArray()) {
    v.Report("security.capabilities", "an array of capability numbers");
  } else {
    Napi::Array array = caps.As<Napi::Array>();
    for (uint32_t i = 0; i < array.Length(); i++) {
      Napi::Value cap = array.Get(i);
      int32_t number = cap.IsNumber() ? cap.As<Napi::Number>().Int32Value() : -1;
      if (number < 0 || number > 63) v.Report("security.capabilities", "an array of numbers from 0 to 63");
      else request->capabilities |= uint64_t{1} << number;
    }
  }
  request->read_only = security.Bool("readOnly");
  Napi::Value user = v.Object("security").Get("user");
  if (!user.IsNull()) {
    Validator ids(user.IsObject() ? user.As<Napi::Object>() : Napi::Object::New(options.Env()));
    request->switch_user = true;
    request->uid = ids.Id("uid");
    request->gid = ids.Id("gid");
    if (!ids.ok()) v.Report("security.user", ids.problem().c_str());
  }
  if (!security.ok()) v.Report("security", security.problem().c_str());
  request->workdir = v.String("workdir");
  if (v.ok() && request->workdir.rfind("/", 0) != 0) v.Report("workdir", "an absolute path");
  request->exec_path = v.String("execPath");
  request->argv = v.ByteStrings("argv");
  if (v.ok() && request->argv.empty()) v.Report("argv", "a non-empty array of Buffers");
  request->env = v.ByteStrings("env");
  request->helper_path = v.Helper();
  Napi::Value terminal = options.Get("terminal");
  if (!terminal.IsNull()) {
    Napi::Object size = v.Object("terminal");
    Napi::Value rows = size.Get("rows");
    Napi::Value columns = size.Get("columns");
    uint32_t r = rows.IsNumber() ? rows.As<Napi::Number>().Uint32Value() : 0;
    uint32_t c = columns.IsNumber() ? columns.As<Napi::Number>().Uint32Value() : 0;
    if (r == 0 || c == 0 || r > 65535 || c > 65535) v.Report("terminal", "null or {rows, columns} from 1 to 65535");
    request->terminal = true;
    request->rows = static_cast<unsigned short>(r);
    request->columns = static_cast<unsigned short>(c);
  }
}

// -v, --mount, --tmpfs: [{kind: 'bind' | 'tmpfs', source, target, readOnly, data}], validated in TypeScript
// (src/container/mounts.ts); here only their shape, and a target that is absolute and short enough for the child.
void ParseMounts(Napi::Object options, Validator& v, SpawnRequest* request) {
  const char* expected = "an array of {kind: 'bind' | 'tmpfs', source, target: '/...', readOnly, data}";
  Napi::Value mounts = options.Get("mounts");
  if (!mounts.IsArray()) return v.Report("mounts", expected);
  Napi::Array array = mounts.As<Napi::Array>();
  for (uint32_t k = 0; k < array.Length(); k++) {
    Napi::Value entry = array.Get(k);
    Validator m(entry.IsObject() ? entry.As<Napi::Object>() : Napi::Object::New(options.Env()));
    std::string kind = m.String("kind");
    SpawnRequest::Mount mount{kind == "bind" ? kMountBind : kMountTmpfs, m.String("source"), m.String("target"),
                              m.Bool("readOnly"), m.String("data")};
    if (!m.ok() || (kind != "bind" && kind != "tmpfs") || mount.target.rfind("/", 0) != 0 ||
        mount.target.size() >= kMaxMountTarget) {
      v.Report("mounts", expected);
    }
    request->mounts.push_back(mount);
  }
}

bool ParseSpawnRequest(Napi::Object options, SpawnRequest* request, std::string* problem) {
  Validator v(options);
  request->new_network = v.Bool("newNetwork");
  request->hostname = v.String("hostname");
  Napi::Value iface = options.Get("interface");
  if (!iface.IsNull()) {
    Validator i(v.Object("interface"));
    request->configure_interface = true;
    request->ifname = i.String("name");
    request->address = i.Ipv4("address");
    request->netmask = i.Netmask("prefixLength");
    request->gateway = i.Ipv4("gateway");
    if (!i.ok()) v.Report("interface", i.problem().c_str());
  }
  Napi::Object overlay = v.Object("overlay");
  // The read-only layers, topmost first, as overlayfs takes them: colon separated.
  std::string lower;
  Napi::Value layers = overlay.Get("lower");
  if (!layers.IsArray() || layers.As<Napi::Array>().Length() == 0) {
    v.Report("lower", "a non-empty array of absolute paths");
  } else {
    Napi::Array array = layers.As<Napi::Array>();
    for (uint32_t k = 0; k < array.Length(); k++) {
      Napi::Object holder = Napi::Object::New(options.Env());
      holder.Set("lower", array.Get(k));
      lower += (k > 0 ? ":" : "") + v.OverlayPath(holder, "lower");
    }
  }
  std::string upper = v.OverlayPath(overlay, "upper");
  std::string work = v.OverlayPath(overlay, "work");
  request->overlay_target = v.OverlayPath(overlay, "target");
  Validator o(overlay);
  bool volatile_upper = o.Bool("volatile");
  if (!o.ok()) v.Report("overlay", o.problem().c_str());
  request->overlay_options =
      "lowerdir=" + lower + ",upperdir=" + upper + ",workdir=" + work + (volatile_upper ? ",volatile" : "");
  Napi::Value files = options.Get("etcFiles");
  if (!files.IsArray()) {
    v.Report("etcFiles", "an array of {path, content}");
  } else {
    Napi::Array array = files.As<Napi::Array>();
    for (uint32_t k = 0; k < array.Length(); k++) {
      Validator file(array.Get(k).IsObject() ? array.Get(k).As<Napi::Object>() : Napi::Object::New(options.Env()));
      std::string path = file.String("path");
      std::string content = file.String("content");
      if (!file.ok() || path.rfind("/etc/", 0) != 0) v.Report("etcFiles", "an array of {path: '/etc/...', content}");
      request->etc_files.emplace_back(path, content);
    }
  }
  Napi::Value devices = options.Get("devices");
  if (!devices.IsArray()) {
    v.Report("devices", "an array of {path, type, major, minor, mode}");
  } else {
    Napi::Array array = devices.As<Napi::Array>();
    for (uint32_t k = 0; k < array.Length(); k++) {
      Napi::Value entry = array.Get(k);
      Validator d(entry.IsObject() ? entry.As<Napi::Object>() : Napi::Object::New(options.Env()));
      SpawnRequest::Device device;
      device.path = d.String("path");
      std::string type = d.String("type");
      device.block = type == "b";
      device.major = d.Id("major");
      device.minor = d.Id("minor");
      device.mode = d.Id("mode");
      if (!d.ok() || device.path.rfind("/dev/", 0) != 0 || (type != "c" && type != "b") || device.major > 0xfff ||
          device.minor > 0xfffff || device.mode > 07777) {
        v.Report("devices", "an array of {path: '/dev/...', type: 'c' | 'b', major, minor, mode}");
      }
      request->devices.push_back(device);
    }
  }
  ParseMounts(options, v, request);
  ParseProcess(options, v, request);
  request->init = v.Bool("init");
  Napi::Value monitor = options.Get("monitor");
  if (!monitor.IsNull()) {
    Validator m(v.Object("monitor"));
    request->monitor_path = m.String("path");
    request->monitor_log = m.String("log");
    request->monitor_argv = m.Strings("argv");
    request->monitor_env = m.Strings("env");
    if (m.ok() && (request->monitor_path.rfind("/", 0) != 0 || request->monitor_argv.empty())) {
      m.Report("path", "an absolute path, with a non-empty argv");
    }
    request->keep_stdin = m.Bool("keepStdin");
    if (!m.ok()) v.Report("monitor", m.problem().c_str());
  }
  *problem = v.problem();
  return v.ok();
}

bool ParseExecRequest(Napi::Object options, SpawnRequest* request, std::string* problem) {
  Validator v(options);
  Napi::Value pid = options.Get("pid");
  int32_t target = pid.IsNumber() ? pid.As<Napi::Number>().Int32Value() : 0;
  if (target <= 1) v.Report("pid", "the host pid of a container's PID 1");
  request->join_pid = target;
  Napi::Value start = options.Get("startTime");
  int64_t start_time = start.IsNumber() ? start.As<Napi::Number>().Int64Value() : 0;
  if (start_time <= 0) v.Report("startTime", "the start time of that PID 1 (/proc/PID/stat field 22)");
  request->join_start_time = static_cast<uint64_t>(start_time);
  request->helper_path = v.Helper();
  request->terminal = v.Bool("terminal");
  // The process's fds 0-2: descriptors of this process (pipes minictr relays), or -1 to inherit its own.
  Napi::Value stdio = options.Get("stdio");
  if (!stdio.IsArray() || stdio.As<Napi::Array>().Length() != 3) {
    v.Report("stdio", "an array of three descriptors (-1: inherit)");
  } else {
    for (uint32_t k = 0; k < 3; k++) {
      Napi::Value fd = stdio.As<Napi::Array>().Get(k);
      request->exec_stdio[k] = fd.IsNumber() ? fd.As<Napi::Number>().Int32Value() : -2;
      if (request->exec_stdio[k] < -1) v.Report("stdio", "an array of three descriptors (-1: inherit)");
    }
  }
  Napi::Value bytes = options.Get("request");
  if (!bytes.IsBuffer()) v.Report("request", "a Buffer (src/container/join-request.ts)");
  else request->join_request.assign(bytes.As<Napi::Buffer<char>>().Data(), bytes.As<Napi::Buffer<char>>().Length());
  *problem = v.problem();
  return v.ok();
}

using Parser = bool (*)(Napi::Object, SpawnRequest*, std::string*);

// openPipe() → [readFd, writeFd], both close-on-exec: the ends minictr relays `exec`'s stdio through.
Napi::Value OpenPipe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) < 0) {
    Napi::Error error = Napi::Error::New(env, std::string("pipe2: ") + strerror(errno));
    error.Set("errno", Napi::Number::New(env, errno));
    error.ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Array result = Napi::Array::New(env, 2);
  result.Set(0u, Napi::Number::New(env, fds[0]));
  result.Set(1u, Napi::Number::New(env, fds[1]));
  return result;
}
using Spawner = int (*)(const SpawnRequest&, SpawnResult*, const char**);

Napi::Value SpawnWith(const Napi::CallbackInfo& info, const char* usage, Parser parse, Spawner spawn) {
  Napi::Env env = info.Env();
  if (info.Length() != 1 || !info[0].IsObject()) {
    Napi::TypeError::New(env, usage).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  SpawnRequest request;
  std::string problem;
  if (!parse(info[0].As<Napi::Object>(), &request, &problem)) {
    Napi::TypeError::New(env, problem).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  SpawnResult result;
  const char* what = "";
  int error = spawn(request, &result, &what);
  if (error != 0) {
    Napi::Error failure = Napi::Error::New(env, std::string(what) + ": " + strerror(error));
    failure.Set("errno", Napi::Number::New(env, error));
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

Napi::Value SpawnFunction(const Napi::CallbackInfo& info) {
  return SpawnWith(info, "spawn(options: object)", ParseSpawnRequest, Spawn);
}

Napi::Value SpawnExecFunction(const Napi::CallbackInfo& info) {
  return SpawnWith(info, "spawnExec(options: object)", ParseExecRequest, SpawnExec);
}

// Release blocks until the child execs (a few milliseconds of mounts), so it runs on the libuv thread pool.
class ReleaseWorker : public Napi::AsyncWorker {
 public:
  ReleaseWorker(Napi::Env env, int release_fd, int error_fd)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), release_fd_(release_fd),
        error_fd_(error_fd) {}

  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override { outcome_ = Release(release_fd_, error_fd_); }

  void OnOK() override {
    Napi::Env env = Env();
    if (outcome_.step == 0) {
      deferred_.Resolve(env.Null());
      return;
    }
    Napi::Object failure = Napi::Object::New(env);
    failure.Set("step", ChildStepName(outcome_.step));
    failure.Set("errno", outcome_.error);
    failure.Set("message", strerror(outcome_.error));
    deferred_.Resolve(failure);
  }

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
  if (!ArgsAreNumbers(info, 2)) {
    Napi::TypeError::New(env, "release(releaseFd: number, errorFd: number)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  auto* worker =
      new ReleaseWorker(env, info[0].As<Napi::Number>().Int32Value(), info[1].As<Napi::Number>().Int32Value());
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

Napi::Value AbortFunction(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!ArgsAreNumbers(info, 2)) {
    Napi::TypeError::New(env, "abort(releaseFd: number, errorFd: number)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  close(info[0].As<Napi::Number>().Int32Value());
  close(info[1].As<Napi::Number>().Int32Value());
  return env.Undefined();
}

}  // namespace

}  // namespace minictr

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("spawn", Napi::Function::New(env, minictr::SpawnFunction, "spawn"));
  exports.Set("spawnExec", Napi::Function::New(env, minictr::SpawnExecFunction, "spawnExec"));
  exports.Set("openPipe", Napi::Function::New(env, minictr::OpenPipe, "openPipe"));
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
  exports.Set("bpfProgDetach", Napi::Function::New(env, minictr::BpfProgDetach, "bpfProgDetach"));
  exports.Set("bpfProgQuery", Napi::Function::New(env, minictr::BpfProgQuery, "bpfProgQuery"));
  exports.Set("interfaceIndex", Napi::Function::New(env, minictr::InterfaceIndex, "interfaceIndex"));
  exports.Set("openInRoot", Napi::Function::New(env, minictr::OpenInRootFunction, "openInRoot"));
  return exports;
}

NODE_API_MODULE(minictr, Init)
