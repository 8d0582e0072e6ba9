{
  "targets": [
    {
      "target_name": "minictr",
      "sources": ["src/addon.cc", "src/spawn.cc", "src/child.cc", "src/seccomp.cc", "src/wait.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS", "_GNU_SOURCE"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Werror"],
      "ldflags": ["-Wl,-z,now"]
    }
  ]
}
