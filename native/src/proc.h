// Processes named by (pid, start time), the identity minictr records for every process it did not start itself.
#pragma once

#include <napi.h>

#include <cstdint>

namespace minictr {

// Field 22 of /proc/PID/stat (start time in clock ticks since boot), or 0 when the process does not exist.
uint64_t StartTimeOf(int pid);

// A pidfd on the very process (pid, start time), or -1: errno ESRCH when that process is gone (the pid free, or
// now another process's), anything else on failure.
int OpenRecorded(int pid, uint64_t start_time);

// signalProcess(pid, startTime, signal) → boolean: false when that process no longer exists.
Napi::Value SignalProcess(const Napi::CallbackInfo& info);

// openProcess(pid, startTime) → number | null: a pidfd on that very process, null when it no longer exists.
Napi::Value OpenProcess(const Napi::CallbackInfo& info);

}  // namespace minictr
