#pragma once
// Applying a try job's patch in a checked-out tree: the checks made before
// anything is written, and the commands that apply it. The git step uses
// `git apply` (binary patches too); other source steps use `patch -pN`
// (patchCommands). A step runs the commands in order; each must exit 0.
#include <optional>
#include <string>
#include <vector>

#include "common/message.hpp"  // Json
#include "common/patch_paths.hpp"

namespace bb {

struct TryPatch {
  int level = 1;
  std::string body;  // the diff's bytes
};

// Reads RunCommand's optional `patch` argument ({level: int, body_base64:
// str}); nullopt when absent. Throws ProtocolError when malformed.
std::optional<TryPatch> readPatchArg(const Json& args);

// Every check made before the patch touches `dir`: the paths it names
// (no absolute path, no `..`), that none of them, nor any directory on
// the way to one, is a symbolic link in `dir`, and that it does not write
// below a symbolic link it creates itself. "" or the reason it is refused.
std::string checkPatchInTree(const std::string& dir, const TryPatch& patch);

// Writes the patch to `file` (mode 0600); false with `error` set.
bool writePatchFile(const std::string& file, const TryPatch& patch, std::string& error);

// `git apply` of the patch file in the work tree (all or nothing: on a
// hunk that does not apply, git names it and writes nothing).
std::vector<std::vector<std::string>> gitApplyCommands(const TryPatch& patch,
                                                       const std::string& file);
// `patch -pN`: a dry run first (it names the rejected hunks and writes
// nothing), then the real run.
std::vector<std::vector<std::string>> patchCommands(const TryPatch& patch,
                                                    const std::string& file);

}  // namespace bb
