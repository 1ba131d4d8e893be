#include "common/transfer_paths.hpp"

#include <string_view>

namespace bb {

std::optional<std::string> checkArtifactName(const std::string& name) {
  if (name.empty()) return "artifact name is empty";
  if (name.size() > 200) return "artifact name '" + name.substr(0, 20) + "...' is longer than 200 bytes";
  auto alnum = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  };
  if (name == "." || name == ".." || name.find('/') != std::string::npos ||
      name.find("..") != std::string::npos)
    return "artifact name '" + name + "' must be one file name without '/' or '..'";
  if (!alnum(name[0])) return "artifact name '" + name + "' must start with a letter or digit";
  for (char c : name)
    if (!alnum(c) && c != '.' && c != '_' && c != '-' && c != '+')
      return "artifact name '" + name +
             "' may only contain letters, digits, '.', '_', '-' and '+'";
  return std::nullopt;
}

std::optional<std::string> checkTransferPath(const std::string& path) {
  if (path.empty()) return "path is empty";
  if (path.size() > 4096) return "path is longer than 4096 bytes";
  for (char c : path)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      return "path '" + path + "' holds a control character";
  if (path[0] == '/') return "path '" + path + "' is absolute; give it relative to the workdir";
  std::string_view rest(path);
  while (!rest.empty()) {
    const auto slash = rest.find('/');
    const std::string_view part = rest.substr(0, slash);
    if (part == "..") return "path '" + path + "' has a '..' component";
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  return std::nullopt;
}

}  // namespace bb
