#pragma once
// Buildbot's own try job files, as its `buildbot try --connect=ssh` writes
// them: a sequence of netstrings ("LEN:BYTES,"). The first is the format
// version:
//  1: jobid, branch, baserev, patch_level, patch_body, then builder names
//  2: as 1 with repository and project after patch_body
//  3: as 2 with who after project
//  4: as 3 with comment after who
//  5: one JSON object {jobid, branch, baserev, patch_level, patch_body,
//     repository, project, who, comment, builderNames, properties}
//  6: as 5 with patch_body_base64 (base64 of the patch) for patch_body
// This is our own reading of the public format (docs/try.md).
#include <string>
#include <string_view>
#include <vector>

#include "common/try_job.hpp"

namespace bb {

// Splits netstrings; throws TryJobError naming the byte offset of a bad one.
std::vector<std::string> splitNetstrings(std::string_view text);
// Reads a Buildbot job file of version 1..6; throws TryJobError.
TryJob parseBuildbotTryJob(std::string_view text);
// Writes `job` as Buildbot's version `version` would (1..6), for tests and
// for tools that feed a Buildbot master; fields a version lacks are dropped.
std::string formatBuildbotTryJob(const TryJob& job, int version);

}  // namespace bb
