// Reading a JavaScript options object in the addon, with shape checks only: each value's type, no NUL in what becomes
// a C string, integers within their C type. What the values mean is TypeScript's to check before the call.
#pragma once

#include <napi.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace minictr {

constexpr double kMaxId = 0xfffffffe;  // uid_t and gid_t; (uid_t)-1 means "unchanged" to the kernel

// One options object, or one nested in it. The first problem, naming the option by its path ("security.user.uid"),
// is kept in `problem` for the caller's TypeError; a value that fails a check reads as empty or 0.
class Options {
 public:
  Options(Napi::Object object, std::string path, std::string* problem)
      : object_(object), path_(std::move(path)), problem_(problem) {}

  bool IsNull(const char* key) const { return object_.Get(key).IsNull(); }
  bool IsUndefined(const char* key) const { return object_.Get(key).IsUndefined(); }

  bool Bool(const char* key) {
    Napi::Value value = object_.Get(key);
    if (!value.IsBoolean()) return Report(key, "a boolean"), false;
    return value.As<Napi::Boolean>().Value();
  }

  // A string without NUL bytes: it becomes a C string.
  std::string String(const char* key) { return StringOf(object_.Get(key), key); }

  std::string Buffer(const char* key) {
    Napi::Value value = object_.Get(key);
    if (!value.IsBuffer()) return Report(key, "a Buffer"), "";
    return std::string(value.As<Napi::Buffer<char>>().Data(), value.As<Napi::Buffer<char>>().Length());
  }

  double Integer(const char* key, double min, double max) { return IntegerOf(object_.Get(key), key, min, max); }

  Options Object(const char* key) { return OptionsOf(object_.Get(key), key); }

  // Calls `each` with every item of the array at `key`, named "key[i]" in problems.
  void Each(const char* key, const std::function<void(Napi::Value, const std::string&)>& each) {
    Napi::Value value = object_.Get(key);
    if (!value.IsArray()) return Report(key, "an array");
    Napi::Array array = value.As<Napi::Array>();
    for (uint32_t i = 0; i < array.Length(); i++) each(array.Get(i), std::string(key) + "[" + std::to_string(i) + "]");
  }

  std::vector<std::string> Strings(const char* key) {
    std::vector<std::string> strings;
    Each(key, [&](Napi::Value item, const std::string& name) { strings.push_back(StringOf(item, name)); });
    return strings;
  }

  // The command's argv and env: Buffers, so that bytes that are not UTF-8 reach execve() as they are. Their number
  // and size are the kernel's to limit (E2BIG at exec), as for any program started from a shell.
  std::vector<std::string> ByteStrings(const char* key) {
    std::vector<std::string> strings;
    Each(key, [&](Napi::Value item, const std::string& name) {
      if (!item.IsBuffer()) return Report(name, "a Buffer");
      strings.emplace_back(item.As<Napi::Buffer<char>>().Data(), item.As<Napi::Buffer<char>>().Length());
      if (strings.back().find('\0') != std::string::npos) Report(name, "a Buffer without NUL bytes");
    });
    return strings;
  }

  // Calls `each` with every object of the array at `key`.
  void EachObject(const char* key, const std::function<void(Options&)>& each) {
    Each(key, [&](Napi::Value item, const std::string& name) {
      Options options = OptionsOf(item, name);
      each(options);
    });
  }

  // An integer from min to max, read as a double: N-API turns NaN into 0 when asked for an integer, and 0 is root.
  double IntegerOf(Napi::Value value, const std::string& key, double min, double max) {
    double number = value.IsNumber() ? value.As<Napi::Number>().DoubleValue() : NAN;
    if (number >= min && number <= max && number == std::floor(number)) return number;
    Report(key, "an integer from " + std::to_string(static_cast<int64_t>(min)) + " to " +
                    std::to_string(static_cast<int64_t>(max)));
    return min > 0 ? min : 0;
  }

  void Report(const std::string& key, const std::string& expected) {
    if (problem_->empty()) *problem_ = "option '" + Name(key) + "' must be " + expected;
  }

 private:
  std::string Name(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }

  std::string StringOf(Napi::Value value, const std::string& key) {
    if (!value.IsString()) return Report(key, "a string"), "";
    std::string text = value.As<Napi::String>().Utf8Value();
    if (text.find('\0') != std::string::npos) Report(key, "a string without NUL bytes");
    return text;
  }

  Options OptionsOf(Napi::Value value, const std::string& key) {
    if (!value.IsObject()) Report(key, "an object");
    return Options(value.IsObject() ? value.As<Napi::Object>() : Napi::Object::New(object_.Env()), Name(key), problem_);
  }

  Napi::Object object_;
  std::string path_;
  std::string* problem_;
};

}  // namespace minictr
