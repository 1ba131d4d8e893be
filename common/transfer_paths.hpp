#pragma once
// Names and paths that file transfers use, checked the same way by the
// config loader, the master and the slave (docs/configuration.md,
// "File transfer steps").
#include <optional>
#include <string>

namespace bb {

// An artifact's name on the master: one path component of letters,
// digits, '.', '_', '-' and '+', starting with a letter or digit, at most
// 200 bytes. So it can never be "..", absolute or hold a '/'. Returns why
// `name` is refused, or nullopt.
std::optional<std::string> checkArtifactName(const std::string& name);

// A path on the slave, relative to the step's workdir (`src` of an
// upload, `dest` of a download): not empty, not absolute, no ".."
// component, no control character. Returns why it is refused, or nullopt.
std::optional<std::string> checkTransferPath(const std::string& path);

}  // namespace bb
