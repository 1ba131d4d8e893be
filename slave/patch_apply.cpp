#include "slave/patch_apply.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/base64.hpp"
#include "slave/command.hpp"
#include "slave/master_message.hpp"

namespace bb {

std::optional<TryPatch> readPatchArg(const Json& args) {
  auto it = args.find("patch");
  if (it == args.end() || it->is_null()) return std::nullopt;
  if (!it->is_object()) throw ProtocolError("field 'patch' must be a map");
  TryPatch p;
  auto level = it->find("level");
  if (level == it->end() || !level->is_number_integer() || level->get<int>() < 0 ||
      level->get<int>() > 100)
    throw ProtocolError("field 'patch.level' must be a whole number from 0 to 100");
  p.level = level->get<int>();
  auto body = it->find("body_base64");
  if (body == it->end() || !body->is_string())
    throw ProtocolError("field 'patch.body_base64' must be a string");
  auto decoded = base64Decode(body->get<std::string>());
  if (!decoded) throw ProtocolError("field 'patch.body_base64' is not base64");
  p.body = std::move(*decoded);
  return p;
}

std::string checkPatchInTree(const std::string& dir, const TryPatch& patch) {
  PatchPaths paths;
  if (auto bad = readPatchPaths(patch.body, patch.level, paths); !bad.empty()) return bad;
  for (const auto& path : paths.paths) {
    // Every prefix, the file itself included: a link anywhere on the way
    // would carry the write outside the tree.
    std::size_t pos = 0;
    while (true) {
      const auto slash = path.find('/', pos);
      const std::string prefix = path.substr(0, slash);
      for (const auto& link : paths.symlinks)
        if (slash != std::string::npos && prefix == link)
          return "patch writes '" + path + "' below the symbolic link '" + link +
                 "' it creates itself";
      struct stat st {};
      const std::string full = dir + "/" + prefix;
      if (::lstat(full.c_str(), &st) == 0) {
        if (S_ISLNK(st.st_mode))
          return "patch would write through the symbolic link '" + prefix + "' (for '" + path + "')";
      } else if (errno != ENOENT && errno != ENOTDIR) {
        return "cannot check '" + prefix + "': " + std::strerror(errno);
      }
      if (slash == std::string::npos) break;
      pos = slash + 1;
    }
  }
  return "";
}

bool writePatchFile(const std::string& file, const TryPatch& patch, std::string& error) {
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    error = "cannot write the patch to '" + file + "': " + std::strerror(errno);
    return false;
  }
  std::size_t done = 0;
  while (done < patch.body.size()) {
    const ssize_t n = ::write(fd, patch.body.data() + done, patch.body.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      error = "cannot write the patch to '" + file + "': " + std::strerror(errno);
      ::close(fd);
      return false;
    }
    done += static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0) {
    error = "cannot write the patch to '" + file + "': " + std::strerror(errno);
    return false;
  }
  return true;
}

std::vector<std::vector<std::string>> gitApplyCommands(const TryPatch& patch,
                                                       const std::string& file) {
  return {{"git", "apply", "--verbose", "--whitespace=nowarn", "-p" + std::to_string(patch.level),
           file}};
}

std::vector<std::vector<std::string>> patchCommands(const TryPatch& patch, const std::string& file) {
  const std::string p = "-p" + std::to_string(patch.level);
  return {{"patch", p, "--forward", "--batch", "--dry-run", "--verbose", "-i", file},
          {"patch", p, "--forward", "--batch", "--no-backup-if-mismatch", "-i", file}};
}

}  // namespace bb
