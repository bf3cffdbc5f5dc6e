// The one error type of qpipe.
//
// Every failure that reaches a user is an Error: a code that decides the exit
// status (the table is in man/qpipe.1, EXIT STATUS) and two texts that make
// the message `qpipe: <what>: <why>`. Result<T> carries a value or an Error;
// it is [[nodiscard]] so that no failure is dropped on the floor.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace qpipe {

enum class Errc : int {
  transfer = 1,      // the transfer failed: peer closed, timeout, integrity
  usage = 2,         // the user asked for something that cannot be done
  connect = 3,       // could not connect or listen
  refused = 4,       // identity or secret refused
  local_io = 5,      // local read or write error, disk full
  interrupted = 130, // SIGINT or SIGTERM
};

struct Error {
  Errc code = Errc::transfer;
  std::string what; // the object: a file name, "connect", "option --streams"
  std::string why;  // the reason, from the OS or the library where there is one

  int exit_code() const { return static_cast<int>(code); }
  // "<what>: <why>", or just one of them when the other is empty.
  std::string message() const;
};

inline Error make_error(Errc code, std::string what, std::string why) {
  return Error{code, std::move(what), std::move(why)};
}

// Error from an errno value (strerror text); also used for negative libuv codes.
Error errno_error(Errc code, std::string what, int err);
Error uv_error(Errc code, std::string what, int uv_status);

template <typename T> class [[nodiscard]] Result {
public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & {
    assert(ok());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(v_));
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(v_);
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const {
    assert(!ok());
    return std::get<1>(v_);
  }

private:
  std::variant<T, Error> v_;
};

template <> class [[nodiscard]] Result<void> {
public:
  Result() = default;
  Result(Error error) : error_(std::move(error)) {}
  bool ok() const { return !error_; }
  explicit operator bool() const { return ok(); }
  const Error& error() const {
    assert(!ok());
    return *error_;
  }

private:
  std::optional<Error> error_;
};

using Status = Result<void>;

} // namespace qpipe
