// Errors as values: errno + what we were doing + the paths involved. Printed once, by main.
#pragma once

#include <cerrno>
#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace havre {

struct Error {
  int errnum = 0;       // errno at the failing call; 0 if not a syscall
  std::string context;  // what we were doing, with the paths involved

  /// Prefixes the context with what the caller was doing.
  Error& wrap(const std::string& outer) {
    context = outer + ": " + context;
    return *this;
  }
  std::string message() const { return errnum != 0 ? context + ": " + std::strerror(errnum) : context; }
};

/// Call right after the failing syscall, before anything else can touch errno.
inline Error sys_error(std::string context) { return Error{errno, std::move(context)}; }
inline Error sys_error(int errnum, std::string context) { return Error{errnum, std::move(context)}; }
inline Error error(std::string context) { return Error{0, std::move(context)}; }

template <typename T>
class [[nodiscard]] Result {  // std::expected once clang has it
 public:
  Result(T value) : v_(std::move(value)) {}
  Result(Error err) : v_(std::move(err)) {}
  explicit operator bool() const { return v_.index() == 0; }
  T& operator*() { return std::get<0>(v_); }
  const T& operator*() const { return std::get<0>(v_); }
  T* operator->() { return &std::get<0>(v_); }
  const T* operator->() const { return &std::get<0>(v_); }
  Error& error() { return std::get<1>(v_); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error err) : err_(std::move(err)) {}
  explicit operator bool() const { return !err_.has_value(); }
  Error& error() { return *err_; }
  const Error& error() const { return *err_; }

 private:
  std::optional<Error> err_;
};

using Status = Result<void>;

}  // namespace havre
