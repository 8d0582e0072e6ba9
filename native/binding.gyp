{
  "target_defaults": {
    "defines": ["_GNU_SOURCE"],
    "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Werror"]
  },
  "targets": [
    {
      "target_name": "minictr",
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "sources": ["src/addon.cc", "src/spawn.cc", "src/oci.cc", "src/launcher.cc", "src/child_exec.cc", "src/child_request.cc", "src/child.cc", "src/mounts.cc", "src/seccomp.cc", "src/wait.cc", "src/pty.cc", "src/proc.cc", "src/lock.cc", "src/unpack.cc", "src/zstd.cc", "src/bpf.cc", "src/root_open.cc", "src/netlink.cc", "src/nftables.cc", "src/helper_spawn.cc", "src/port_probe.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      "ldflags": ["-Wl,-z,now"]
    },
    {
      "target_name": "minictr-monitor",
      "type": "executable",
      "sources": ["src/monitor.cc", "src/nolibc.cc"],
      "cflags_cc": ["-fno-exceptions", "-fno-rtti", "-Os", "-ffunction-sections", "-fdata-sections", "-ffreestanding",
                    "-fno-stack-protector", "-fno-asynchronous-unwind-tables", "-fno-pie"],
      "ldflags": ["-nostdlib", "-static", "-no-pie", "-s", "-Wl,--gc-sections", "-Wl,--build-id=none"]
    },
    {
      "target_name": "minictr-proxy",
      "type": "executable",
      "sources": ["src/proxy.cc", "src/nolibc.cc"],
      "cflags_cc": ["-fno-exceptions", "-fno-rtti", "-Os", "-ffunction-sections", "-fdata-sections", "-ffreestanding",
                    "-fno-stack-protector", "-fno-asynchronous-unwind-tables", "-fno-pie"],
      "ldflags": ["-nostdlib", "-static", "-no-pie", "-s", "-Wl,--gc-sections", "-Wl,--build-id=none"]
    },
    {
      "target_name": "minictr-init",
      "type": "executable",
      "sources": ["src/init.cc", "src/join.cc", "src/child_request.cc", "src/child.cc", "src/mounts.cc", "src/seccomp.cc"],
      "cflags_cc": ["-fno-exceptions", "-fno-rtti", "-Os", "-ffunction-sections", "-fdata-sections"],
      "ldflags": ["-static", "-s", "-Wl,--gc-sections"]
    }
  ]
}
