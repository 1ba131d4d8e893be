#pragma once
// The three ways a `buildbot` command can fail, each with its exit code:
// UsageError (2), MasterError (1: the master answered with an error) and
// ConnectError (3: cannot connect, login refused, timed out, connection lost).
#include <stdexcept>
#include <string>
#include <vector>

namespace bb::client {

inline constexpr int kExitOk = 0;
inline constexpr int kExitMasterError = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitConnect = 3;

// A bad command line, option value or options file; the text says what to fix.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Connection, login, timeout or lost-session failure.
struct ConnectError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A Response with ok:false: the master's code, message and detail lines.
struct MasterError : std::runtime_error {
  MasterError(std::string code, std::string message, std::vector<std::string> details)
      : std::runtime_error(code + ": " + message),
        code_(std::move(code)),
        message_(std::move(message)),
        details_(std::move(details)) {}
  const std::string& code() const { return code_; }
  const std::string& message() const { return message_; }
  const std::vector<std::string>& details() const { return details_; }

 private:
  std::string code_;
  std::string message_;
  std::vector<std::string> details_;
};

}  // namespace bb::client
