#pragma once
// Runs a program to completion and captures its output (blocking; the
// master calls it only from its worker thread).
#include <chrono>
#include <string>
#include <vector>

namespace bb {

struct SubprocessResult {
  int exitCode = -1;  // -1 if it could not start or was killed
  std::string out;
  std::string err;    // stderr, or why it could not run
  bool timedOut = false;
};

// Runs argv[0] (searched in PATH) in `cwd` ("" = current), stdin from
// /dev/null (or, given `input`, a pipe it is written to and then closed),
// killing its process group after `timeout`.
SubprocessResult runSubprocess(const std::vector<std::string>& argv, const std::string& cwd = "",
                               std::chrono::seconds timeout = std::chrono::seconds(300),
                               const std::string* input = nullptr);

}  // namespace bb
