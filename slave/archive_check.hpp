#pragma once
// A downloaded directory archive (a tar stream, compressed) is read twice
// on the slave: first every member is checked and nothing is written, then,
// only if all are fine, it is extracted. What a check refuses: an
// absolute member, a ".." component, a symbolic link whose target is
// absolute or leaves the destination, a member under a symbolic link of
// the archive, a hard link, a device, fifo or socket, a member over the
// file cap or a total over the cap.
#include <cstdint>
#include <optional>
#include <string>

namespace bb {

struct ArchiveSummary {
  std::int64_t files = 0;   // regular files
  std::int64_t bytes = 0;   // their total size (as the headers say)
  std::int64_t members = 0;
};

// Checks every member of the archive file `path`. Returns why it is
// refused (naming the member), or nullopt with `out` filled.
std::optional<std::string> checkArchive(const std::string& path, std::int64_t maxBytes,
                                        ArchiveSummary& out);

// Extracts the checked archive `path` into the existing, empty directory
// `dest` (libarchive's secure flags on, as a second line of defence).
// Returns an error text or nullopt.
std::optional<std::string> extractArchive(const std::string& path, const std::string& dest);

}  // namespace bb
