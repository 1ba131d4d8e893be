#pragma once
// A try job: a developer's patch on a base revision, to be built on some
// builders before it lands (docs/try.md). Written by `buildbot tryserver`
// (from `buildbot try`) into a job directory, and read by the try_jobdir
// scheduler; the same fields travel over the client protocol (`try`).
//
// Two encodings are read:
//  - ours, a text message: "Header: value" lines, a blank line, then the
//    patch (formatTryJob / parseTryJob);
//  - Buildbot's, netstrings of versions 1 to 6 (buildbot_try_job.hpp).
// parseAnyTryJob() tells them apart by the first bytes.
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace bb {

inline constexpr int kTryJobFormatVersion = 1;

struct TryJob {
  std::string jobId;         // unique per job: [A-Za-z0-9._-], 1..128 bytes
  std::string branch;        // "" : the repository's default branch
  std::string baseRevision;  // "" : the branch head
  int patchLevel = 1;        // path components to strip (patch -pN)
  std::string repository, project;
  std::vector<std::string> builders;  // at least one
  std::map<std::string, std::string> properties;
  std::string who, comment;
  std::string patch;  // the diff, bytes as given (may hold binary git patches)
  // Which encoding it came in: "bbcpp/1" or "buildbot/N" (for log lines).
  std::string format;
};

// A job that cannot be read; what() names the first problem (the header,
// the line, the version) in words a developer can act on.
struct TryJobError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The job as our text message (docs/try.md). Throws TryJobError for a job
// that could not be read back (bad job id, no builder, a property name
// with '=' or a newline...): what is written is always parseable.
std::string formatTryJob(const TryJob& job);
// Reads our text message; throws TryJobError.
TryJob parseTryJob(std::string_view text);
// Ours or Buildbot's, by the first bytes (a digit then ':' is a netstring).
TryJob parseAnyTryJob(std::string_view text);
// The checks every job passes whatever its encoding (job id characters,
// builders given, patch level 0..100); "" or the problem.
std::string checkTryJob(const TryJob& job);
// A fresh job id: UTC time, pid and random bytes ("20261201-183000-1234-9f3a0c1d").
std::string newTryJobId();

}  // namespace bb
