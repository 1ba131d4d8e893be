#pragma once
// The paths a patch (unified diff, or git's extended diff with renames,
// copies and binary hunks) would write, so that the master can refuse a
// try job and the slave can refuse to apply a patch before anything is
// written: no absolute path, no ".." component, and (on the slave,
// patch_apply.hpp) nothing through a symbolic link.
#include <string>
#include <string_view>
#include <vector>

namespace bb {

struct PatchPaths {
  // Every path the patch names, with `level` leading components stripped,
  // in order of appearance (duplicates kept once).
  std::vector<std::string> paths;
  // Paths the patch creates as symbolic links (git "new file mode 120000").
  std::vector<std::string> symlinks;
};

// Reads the paths of `patch` at strip level `level`. Returns "" and fills
// `out`, or the first problem: "patch names an absolute path '/etc/x'",
// "patch path 'a/../../x' contains '..'", "cannot strip 2 components from
// 'x'", "the patch names no file".
std::string readPatchPaths(std::string_view patch, int level, PatchPaths& out);

}  // namespace bb
