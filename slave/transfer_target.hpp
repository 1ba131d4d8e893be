#pragma once
// Where a file transfer reads or writes on the slave: a path relative to
// the step's workdir that must stay inside it, also through symbolic
// links (checked on the real paths, before anything is written).
#include <optional>
#include <string>

namespace bb {

// The real path of `rel` under `workdir` for reading (an upload's
// source): it must exist, and it and every link on the way must resolve
// inside the workdir's real path. nullopt with `error` otherwise.
std::optional<std::string> resolveSource(const std::string& workdir, const std::string& rel,
                                         std::string& error);

// The path to write `rel` at under `workdir` (a download's destination):
// its parent's existing part must resolve inside the workdir (so a
// symlinked directory cannot lead out); the missing parents are created
// only after that check. The last component may not be "." or empty.
// Returns the real parent joined with the last component.
std::optional<std::string> prepareDestination(const std::string& workdir, const std::string& rel,
                                              std::string& error);

// True if the real path `path` is `root` or below it.
bool isInside(const std::string& root, const std::string& path);

}  // namespace bb
