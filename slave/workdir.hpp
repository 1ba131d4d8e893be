#pragma once
// Workdirs named by the master are relative to the slave basedir and must
// stay inside it.
#include <optional>
#include <string>

namespace bb {

// Joins `basedir` and the relative `workdir` into an absolute, normalized
// path. Returns nullopt and sets `error` ("workdir '...' escapes the slave
// basedir") for an absolute path or one whose ".." leaves the basedir.
// An empty workdir means the basedir itself.
std::optional<std::string> resolveWorkdir(const std::string& basedir, const std::string& workdir,
                                          std::string& error);

}  // namespace bb
