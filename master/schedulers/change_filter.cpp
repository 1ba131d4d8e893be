#include "master/schedulers/change_filter.hpp"

namespace bb {

bool globMatch(std::string_view p, std::string_view s) {
  while (!p.empty()) {
    if (p.substr(0, 2) == "**") {
      std::string_view rest = p.substr(2);
      if (!rest.empty() && rest[0] == '/') rest.remove_prefix(1);  // "**/" may match nothing
      for (std::size_t i = 0; i <= s.size(); ++i)
        if ((i == 0 || s[i - 1] == '/' || rest.empty()) && globMatch(rest, s.substr(i)))
          return true;
      return false;
    }
    if (p[0] == '*') {
      for (std::size_t i = 0; i <= s.size(); ++i) {
        if (globMatch(p.substr(1), s.substr(i))) return true;
        if (i < s.size() && s[i] == '/') break;
      }
      return false;
    }
    if (s.empty()) return false;
    if (p[0] == '?' ? s[0] == '/' : p[0] != s[0]) return false;
    p.remove_prefix(1);
    s.remove_prefix(1);
  }
  return s.empty();
}

bool isImportant(const FileFilter& f, const std::vector<std::string>& files) {
  if (f.include.empty() && f.exclude.empty()) return true;
  if (files.empty()) return true;
  for (const auto& file : files) {
    bool included = f.include.empty();
    for (const auto& g : f.include)
      if (globMatch(g, file)) included = true;
    if (!included) continue;
    bool excluded = false;
    for (const auto& g : f.exclude)
      if (globMatch(g, file)) excluded = true;
    if (!excluded) return true;
  }
  return false;
}

}  // namespace bb
