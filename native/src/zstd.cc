// zstd decompression through Debian's libzstd, as small as a streaming surface gets: one context per layer, fed
// input Buffers, each call bounded in the output it makes. src/image/decompress.ts wraps it in a Transform stream.
#include "zstd.h"

#include <zstd.h>

#include <string>

#include "errors.h"

namespace minictr {

namespace {

constexpr size_t kMaxOutput = 1 << 20;

}  // namespace

Napi::Value ZstdStream(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ZSTD_DStream* stream = ZSTD_createDStream();
  if (stream == nullptr || ZSTD_isError(ZSTD_initDStream(stream))) {
    ZSTD_freeDStream(stream);
    Napi::Error::New(env, "zstd: cannot create a decompression context").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  return Napi::External<ZSTD_DStream>::New(env, stream, [](Napi::Env, ZSTD_DStream* s) { ZSTD_freeDStream(s); });
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
    result = ZSTD_decompressStream(stream, &out, &in);
    if (ZSTD_isError(result)) {
      Napi::Error::New(env, std::string("zstd: ") + ZSTD_getErrorName(result)).ThrowAsJavaScriptException();
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
