#pragma once
// Whitespace off the ends of command output and of text users give.
#include <string>

namespace bb {

inline bool isTrimSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// `s` without trailing spaces, tabs, CRs and newlines.
inline std::string trimEnd(std::string s) {
  while (!s.empty() && isTrimSpace(s.back())) s.pop_back();
  return s;
}

// `s` without leading or trailing spaces, tabs, CRs and newlines.
inline std::string trim(std::string s) {
  s = trimEnd(std::move(s));
  std::size_t i = 0;
  while (i < s.size() && isTrimSpace(s[i])) ++i;
  return s.substr(i);
}

}  // namespace bb
