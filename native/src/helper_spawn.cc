// spawnHelper: posix_spawn() of a helper program. glibc's posix_spawn clones with CLONE_VM | CLONE_VFORK, so Node's
// memory is neither copied nor write-protected: fork() (child_process.spawn) would mark every page of Node's heap
// copy-on-write, and the run would then pay a page fault for each page it next writes (about 5 ms, measured in a
// run's go→exec step).
#include "helper_spawn.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "errors.h"
#include "fd.h"

namespace minictr {

Napi::Value SpawnHelper(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 2 || !info[0].IsString() || !info[1].IsArray()) {
    return ThrowTypeError(env, "spawnHelper(path: string, argv: string[])");
  }
  std::string path = info[0].As<Napi::String>().Utf8Value();
  Napi::Array given = info[1].As<Napi::Array>();
  std::vector<std::string> args;
  for (uint32_t i = 0; i < given.Length(); i++) {
    if (!given.Get(i).IsString()) return ThrowTypeError(env, "spawnHelper: argv must hold strings");
    args.push_back(given.Get(i).As<Napi::String>().Utf8Value());
  }
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  char* envp[] = {nullptr};

  int pair[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0) return ThrowErrno(env, "socketpair", errno);
  Fd ours(pair[0]);
  Fd theirs(pair[1]);
  // fd 3 first: the socket's own number may be 3, whose close-on-exec dup2 onto itself clears (glibc 2.29).
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, theirs.get(), 3);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  // Nothing else: a descriptor minictr's caller left without close-on-exec (a pipe it waits on for EOF, a host
  // directory) would otherwise live on in a process that outlives this run.
  posix_spawn_file_actions_addclosefrom_np(&actions, 4);
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  sigset_t all;
  sigset_t none;
  sigfillset(&all);
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&attributes, &all);  // Node ignores SIGPIPE: not inherited
  posix_spawnattr_setsigmask(&attributes, &none);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  pid_t pid;
  int failed = posix_spawn(&pid, path.c_str(), &actions, &attributes, argv.data(), envp);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  if (failed != 0) return ThrowErrno(env, "posix_spawn " + path, failed);
  Napi::Object result = Napi::Object::New(env);
  result.Set("pid", Napi::Number::New(env, pid));
  result.Set("fd", Napi::Number::New(env, ours.release()));
  return result;
}

}  // namespace minictr
