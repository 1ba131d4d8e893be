#include "common/patch_paths.hpp"

#include <algorithm>
#include <cstdlib>

namespace bb {

namespace {

bool startsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// git C-quotes unusual names: "a/sp\303\251cial \"x\"".
std::string unquote(std::string_view s) {
  if (s.size() < 2 || s.front() != '"' || s.back() != '"') return std::string(s);
  std::string out;
  for (std::size_t i = 1; i + 1 < s.size(); ++i) {
    char c = s[i];
    if (c != '\\' || i + 2 >= s.size()) {
      out += c;
      continue;
    }
    char n = s[++i];
    if (n >= '0' && n <= '7' && i + 2 < s.size()) {
      int v = (n - '0') * 64 + (s[i + 1] - '0') * 8 + (s[i + 2] - '0');
      out += static_cast<char>(v);
      i += 2;
    } else if (n == 'n') {
      out += '\n';
    } else if (n == 't') {
      out += '\t';
    } else {
      out += n;
    }
  }
  return out;
}

// A ---/+++ name ends at a tab (the timestamp follows).
std::string fileName(std::string_view rest) {
  if (!rest.empty() && rest.front() == '"') {
    auto end = rest.find('"', 1);
    while (end != std::string_view::npos && rest[end - 1] == '\\') end = rest.find('"', end + 1);
    if (end != std::string_view::npos) return unquote(rest.substr(0, end + 1));
  }
  auto tab = rest.find('\t');
  std::string_view name = rest.substr(0, tab);
  while (!name.empty() && (name.back() == ' ' || name.back() == '\r')) name.remove_suffix(1);
  return std::string(name);
}

// Checks a name as written and strips `level` components (or none, for
// git's rename/copy lines, which carry no prefix).
std::string addPath(const std::string& raw, int level, std::vector<std::string>& out,
                    std::string* stripped = nullptr) {
  if (raw == "/dev/null") return "";
  if (raw.empty()) return "the patch names an empty path";
  if (raw[0] == '/') return "patch names an absolute path '" + raw + "'";
  std::vector<std::string> parts;
  std::size_t pos = 0;
  while (pos <= raw.size()) {
    auto slash = raw.find('/', pos);
    if (slash == std::string::npos) slash = raw.size();
    std::string part = raw.substr(pos, slash - pos);
    if (part == "..") return "patch path '" + raw + "' contains '..'";
    if (!part.empty()) parts.push_back(part);
    pos = slash + 1;
  }
  if (static_cast<int>(parts.size()) <= level)
    return "cannot strip " + std::to_string(level) + " component(s) from patch path '" + raw + "'";
  std::string path;
  for (std::size_t i = static_cast<std::size_t>(level); i < parts.size(); ++i)
    path += (path.empty() ? "" : "/") + parts[i];
  if (path == ".") return "patch path '" + raw + "' names the tree itself";
  if (std::find(out.begin(), out.end(), path) == out.end()) out.push_back(path);
  if (stripped) *stripped = path;
  return "";
}

// "@@ -l,s +l,s @@": the old and new line counts (1 when omitted).
bool hunkCounts(std::string_view line, long& oldCount, long& newCount) {
  auto count = [](std::string_view range) -> long {
    auto comma = range.find(',');
    if (comma == std::string_view::npos) return 1;
    return std::strtol(std::string(range.substr(comma + 1)).c_str(), nullptr, 10);
  };
  auto minus = line.find(" -");
  auto plus = line.find(" +", minus == std::string_view::npos ? 0 : minus);
  if (minus == std::string_view::npos || plus == std::string_view::npos) return false;
  auto oldEnd = line.find(' ', minus + 2);
  auto newEnd = line.find(' ', plus + 2);
  oldCount = count(line.substr(minus + 2, oldEnd - minus - 2));
  newCount = count(line.substr(plus + 2, newEnd - plus - 2));
  return true;
}

}  // namespace

std::string readPatchPaths(std::string_view patch, int level, PatchPaths& out) {
  out = {};
  std::size_t pos = 0;
  long oldLeft = 0, newLeft = 0;
  std::string gitPath;  // the current `diff --git` file (stripped), for its mode lines
  bool inBinary = false;
  while (pos < patch.size()) {
    auto nl = patch.find('\n', pos);
    if (nl == std::string_view::npos) nl = patch.size();
    std::string_view line = patch.substr(pos, nl - pos);
    pos = nl + 1;
    if (oldLeft > 0 || newLeft > 0) {  // inside a hunk: content, not headers
      const char c = line.empty() ? ' ' : line[0];
      if (c == '\\') continue;
      if (c == ' ' || c == '-') --oldLeft;
      if (c == ' ' || c == '+') --newLeft;
      continue;
    }
    std::string err;
    if (startsWith(line, "diff --git ")) {
      inBinary = false;
      std::string_view rest = line.substr(11);
      // "a/X b/X": split where " b/" (or the second quoted name) starts.
      std::string a, b;
      if (!rest.empty() && rest[0] == '"') {
        auto end = rest.find("\" ");
        a = unquote(rest.substr(0, end + 1));
        b = unquote(rest.substr(end + 2));
      } else {
        auto mid = rest.size() / 2;  // same name twice when not renamed
        if (rest.size() % 2 == 1 && rest[mid] == ' ' &&
            rest.substr(0, mid).substr(rest.substr(0, mid).find('/') + 1) ==
                rest.substr(mid + 1).substr(rest.substr(mid + 1).find('/') + 1)) {
          a = std::string(rest.substr(0, mid));
          b = std::string(rest.substr(mid + 1));
        } else {
          auto sp = rest.find(' ');
          a = std::string(rest.substr(0, sp));
          b = sp == std::string_view::npos ? "" : std::string(rest.substr(sp + 1));
        }
      }
      if (!(err = addPath(a, level, out.paths)).empty()) return err;
      if (!(err = addPath(b, level, out.paths, &gitPath)).empty()) return err;
    } else if (startsWith(line, "--- ") || startsWith(line, "+++ ")) {
      if (!(err = addPath(fileName(line.substr(4)), level, out.paths)).empty()) return err;
    } else if (startsWith(line, "rename from ") || startsWith(line, "rename to ") ||
               startsWith(line, "copy from ") || startsWith(line, "copy to ")) {
      const std::string name = fileName(line.substr(line.find(' ', line.find(' ') + 1) + 1));
      if (!(err = addPath(name, 0, out.paths)).empty()) return err;
    } else if ((startsWith(line, "new file mode 120000") || startsWith(line, "new mode 120000")) &&
               !gitPath.empty()) {
      out.symlinks.push_back(gitPath);
    } else if (startsWith(line, "GIT binary patch")) {
      inBinary = true;
    } else if (!inBinary && startsWith(line, "@@ ")) {
      if (!hunkCounts(line, oldLeft, newLeft)) return "patch has a malformed hunk header";
    }
  }
  if (out.paths.empty()) return "the patch names no file";
  return "";
}

}  // namespace bb
