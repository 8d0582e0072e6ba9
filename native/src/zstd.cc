// zstd decompression through Debian's libzstd, as small as a streaming surface gets: one context per layer, fed
// input Buffers, each call bounded in the output it makes. src/image/decompress.ts wraps it in a Transform stream.
// libzstd is opened with dlopen when the first context is made: only image layers need it, and loading it with the
// addon cost every run 0.3 ms.
#include "zstd.h"

#include <zstd.h>

#include <string>

#include "dl.h"
#include "errors.h"

namespace minictr {

namespace {

constexpr size_t kMaxOutput = 1 << 20;

// The libzstd functions this file calls, found with dlsym once the library is open.
struct Library {
  decltype(&ZSTD_createDStream) createDStream;
  decltype(&ZSTD_initDStream) initDStream;
  decltype(&ZSTD_freeDStream) freeDStream;
  decltype(&ZSTD_decompressStream) decompressStream;
  decltype(&ZSTD_isError) isError;
  decltype(&ZSTD_getErrorName) getErrorName;
};

Library library{};

// Opens libzstd (the soname libzstd-dev links against) and finds its functions; nullptr, or the reason it cannot.
// The handle stays open for the process.
const char* OpenLibrary() {
  if (library.createDStream != nullptr) return nullptr;
  void* handle = dlopen("libzstd.so.1", RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) return dlerror();
  Library found{};
  Symbols symbols(handle);
  symbols.Find(found.createDStream, "ZSTD_createDStream");
  symbols.Find(found.initDStream, "ZSTD_initDStream");
  symbols.Find(found.freeDStream, "ZSTD_freeDStream");
  symbols.Find(found.decompressStream, "ZSTD_decompressStream");
  symbols.Find(found.isError, "ZSTD_isError");
  symbols.Find(found.getErrorName, "ZSTD_getErrorName");
  if (symbols.failure() != nullptr) return symbols.failure();
  library = found;
  return nullptr;
}

}  // namespace

Napi::Value ZstdStream(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (const char* failure = OpenLibrary()) {
    Napi::Error::New(env, std::string("zstd: load libzstd.so.1 (install libzstd1): ") + failure).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  ZSTD_DStream* stream = library.createDStream();
  if (stream == nullptr || library.isError(library.initDStream(stream))) {
    library.freeDStream(stream);
    Napi::Error::New(env, "zstd: cannot create a decompression context").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  return Napi::External<ZSTD_DStream>::New(env, stream, [](Napi::Env, ZSTD_DStream* s) { library.freeDStream(s); });
}

Napi::Value ZstdDecompress(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 2 || !info[0].IsExternal() || !info[1].IsBuffer()) {
    return ThrowTypeError(env, "zstdDecompress(stream: external, input: Buffer)");
  }
  ZSTD_DStream* stream = info[0].As<Napi::External<ZSTD_DStream>>().Data();
  Napi::Buffer<char> input = info[1].As<Napi::Buffer<char>>();
  std::string output(kMaxOutput, '\0');
  ZSTD_inBuffer in{input.Data(), input.Length(), 0};
  ZSTD_outBuffer out{output.data(), output.size(), 0};
  size_t result;
  // At least once (an empty input drains what the context holds), then until the input is used up or the output
  // is full; a frame ending mid-input starts the next one.
  do {
    result = library.decompressStream(stream, &out, &in);
    if (library.isError(result)) {
      Napi::Error::New(env, std::string("zstd: ") + library.getErrorName(result)).ThrowAsJavaScriptException();
      return env.Undefined();
    }
  } while (in.pos < in.size && out.pos < out.size);
  Napi::Object value = Napi::Object::New(env);
  value.Set("output", Napi::Buffer<char>::Copy(env, output.data(), out.pos));
  value.Set("consumed", Napi::Number::New(env, static_cast<double>(in.pos)));
  value.Set("frameEnded", Napi::Boolean::New(env, result == 0));
  return value;
}

}  // namespace minictr
