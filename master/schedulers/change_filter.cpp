#include "master/schedulers/change_filter.hpp"

#include <algorithm>

namespace bb {

namespace {
// True if `value` matches one of `patterns` (or there are none); otherwise
// sets whyNot to "<what> '<value>' does not match 'p'" (one pattern) or
// "... matches none of p1, p2".
bool matchesAny(const std::vector<std::string>& patterns, const std::string& value,
                const char* what, std::string& whyNot) {
  if (patterns.empty()) return true;
  if (std::any_of(patterns.begin(), patterns.end(),
                  [&](const std::string& p) { return globMatch(p, value); }))
    return true;
  whyNot = std::string(what) + " '" + value + "' ";
  if (patterns.size() == 1) {
    whyNot += "does not match '" + patterns[0] + "'";
  } else {
    whyNot += "matches none of ";
    for (std::size_t i = 0; i < patterns.size(); ++i) whyNot += (i ? ", " : "") + patterns[i];
  }
  return false;
}
}  // namespace

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

bool matches(const ChangeFilter& f, const db::ChangeRecord& change, std::string& whyNot) {
  // The branch first: it is the filter most configs have, so its reason is
  // the one a user most expects to read.
  if (f.branch && change.branch != *f.branch) {
    whyNot = "branch '" + change.branch + "' is not '" + *f.branch + "'";
    return false;
  }
  return matchesAny(f.branchPatterns, change.branch, "branch", whyNot) &&
         matchesAny(f.repositories, change.repository, "repository", whyNot) &&
         matchesAny(f.projects, change.project, "project", whyNot) &&
         matchesAny(f.categories, change.category, "category", whyNot);
}

}  // namespace bb
