#include "slave/transfer_target.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <vector>

#include "common/transfer_paths.hpp"

namespace bb {

namespace {

std::optional<std::string> realPath(const std::string& p) {
  char buf[PATH_MAX];
  if (!::realpath(p.c_str(), buf)) return std::nullopt;
  return std::string(buf);
}

}  // namespace

bool isInside(const std::string& root, const std::string& path) {
  if (path == root) return true;
  if (root == "/") return true;
  return path.size() > root.size() && path.compare(0, root.size(), root) == 0 && path[root.size()] == '/';
}

std::optional<std::string> resolveSource(const std::string& workdir, const std::string& rel,
                                         std::string& error) {
  if (auto bad = checkTransferPath(rel)) {
    error = "refused: " + *bad;
    return std::nullopt;
  }
  auto root = realPath(workdir);
  if (!root) {
    error = "workdir " + workdir + " does not exist";
    return std::nullopt;
  }
  const std::string full = workdir + "/" + rel;
  auto real = realPath(full);
  if (!real) {
    error = "cannot read " + rel + ": " + std::strerror(errno);
    return std::nullopt;
  }
  if (!isInside(*root, *real)) {
    error = "refused: " + rel + " leads out of the workdir (through a symbolic link to " + *real + ")";
    return std::nullopt;
  }
  return real;
}

std::optional<std::string> prepareDestination(const std::string& workdir, const std::string& rel,
                                              std::string& error) {
  namespace fs = std::filesystem;
  if (auto bad = checkTransferPath(rel)) {
    error = "refused: " + *bad;
    return std::nullopt;
  }
  std::string trimmed = rel;
  while (!trimmed.empty() && trimmed.back() == '/') trimmed.pop_back();
  const fs::path relPath(trimmed);
  const std::string last = relPath.filename().string();
  if (last.empty() || last == ".") {
    error = "refused: destination '" + rel + "' names no file";
    return std::nullopt;
  }
  std::error_code ec;
  fs::create_directories(workdir, ec);
  auto root = realPath(workdir);
  if (!root) {
    error = "cannot create workdir " + workdir;
    return std::nullopt;
  }
  // Walk the parent's components: existing ones must resolve inside the
  // workdir; the first missing one and those after it are created.
  std::string cur = *root;
  std::vector<std::string> parts;
  for (const auto& part : relPath.parent_path()) {
    const std::string s = part.string();
    if (s.empty() || s == ".") continue;
    parts.push_back(s);
  }
  for (const auto& part : parts) {
    const std::string next = cur + "/" + part;
    struct stat st {};
    if (::lstat(next.c_str(), &st) == 0) {
      auto real = realPath(next);
      if (!real || !isInside(*root, *real)) {
        error = "refused: destination '" + rel + "' leads out of the workdir (through a symbolic link at " + part + ")";
        return std::nullopt;
      }
      struct stat rs {};
      if (::stat(real->c_str(), &rs) != 0 || !S_ISDIR(rs.st_mode)) {
        error = "refused: " + part + " in destination '" + rel + "' is not a directory";
        return std::nullopt;
      }
      cur = *real;
    } else {
      if (::mkdir(next.c_str(), 0755) != 0 && errno != EEXIST) {
        error = "cannot create " + next + ": " + std::strerror(errno);
        return std::nullopt;
      }
      cur = next;
    }
  }
  return cur + "/" + last;
}

}  // namespace bb
