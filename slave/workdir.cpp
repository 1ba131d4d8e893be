#include "slave/workdir.hpp"

#include <filesystem>

namespace bb {

std::optional<std::string> resolveWorkdir(const std::string& basedir, const std::string& workdir,
                                          std::string& error) {
  namespace fs = std::filesystem;
  auto escapes = [&] {
    error = "workdir '" + workdir + "' escapes the slave basedir";
    return std::nullopt;
  };
  fs::path rel(workdir);
  if (rel.is_absolute() || rel.has_root_name() || rel.has_root_directory()) return escapes();
  // Lexical check: "a/../b" is fine, "a/../../b" is not. Symlinks inside
  // the basedir are the slave owner's business.
  fs::path normal = rel.lexically_normal();
  if (!normal.empty() && *normal.begin() == "..") return escapes();
  fs::path base = fs::absolute(fs::path(basedir)).lexically_normal();
  fs::path full = (base / normal).lexically_normal();
  std::string s = full.string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

}  // namespace bb
