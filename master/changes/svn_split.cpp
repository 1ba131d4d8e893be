#include "master/changes/svn_split.hpp"

namespace bb {

namespace {

std::vector<std::string> segments(const std::string& path) {
  std::vector<std::string> out;
  std::size_t s = 0;
  while (s < path.size()) {
    std::size_t e = path.find('/', s);
    if (e == std::string::npos) e = path.size();
    if (e > s) out.push_back(path.substr(s, e - s));
    s = e + 1;
  }
  return out;
}

}  // namespace

const std::vector<std::string>& standardSvnLayout() {
  static const std::vector<std::string> layout{"trunk", "branches/*", "tags/*"};
  return layout;
}

std::optional<SvnPathSplit> splitSvnPath(const std::vector<std::string>& patterns,
                                         const std::string& path) {
  const auto parts = segments(path);
  for (const auto& pattern : patterns) {
    const auto want = segments(pattern);
    if (want.empty() || want.size() > parts.size()) continue;
    bool match = true;
    for (std::size_t i = 0; i < want.size() && match; ++i)
      match = want[i] == "*" || want[i] == parts[i];
    if (!match) continue;
    SvnPathSplit out;
    for (std::size_t i = 0; i < parts.size(); ++i) {
      std::string& to = i < want.size() ? out.branch : out.file;
      to += (to.empty() ? "" : "/") + parts[i];
    }
    if (!out.file.empty() && path.back() == '/') out.file += '/';  // a directory stays one
    return out;
  }
  return std::nullopt;
}

std::string checkSvnPattern(const std::string& pattern) {
  if (pattern.empty()) return "a split pattern must not be empty";
  if (pattern.front() == '/' || pattern.back() == '/')
    return "split pattern '" + pattern + "' must not start or end with '/'";
  std::size_t s = 0;
  while (s <= pattern.size()) {
    std::size_t e = pattern.find('/', s);
    if (e == std::string::npos) e = pattern.size();
    const std::string seg = pattern.substr(s, e - s);
    if (seg.empty()) return "split pattern '" + pattern + "' has an empty segment ('//')";
    if (seg == ".." || seg == ".") return "split pattern '" + pattern + "' must not use '" + seg + "'";
    if (seg != "*" && seg.find('*') != std::string::npos)
      return "split pattern '" + pattern + "': '*' must be a whole segment (like branches/*)";
    s = e + 1;
  }
  return "";
}

}  // namespace bb
