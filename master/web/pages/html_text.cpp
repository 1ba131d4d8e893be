#include "master/web/pages/html_text.hpp"

#include <cctype>
#include <ctime>
#include <vector>

namespace bb::web {

namespace {

void appendEscaped(std::string& out, char c) {
  switch (c) {
    case '&': out += "&amp;"; break;
    case '<': out += "&lt;"; break;
    case '>': out += "&gt;"; break;
    case '"': out += "&quot;"; break;
    case '\'': out += "&#39;"; break;
    default: out += c;
  }
}

// What the SGR sequences seen so far have set.
struct AnsiState {
  int fg = -1, bg = -1;  // 0-15, or -1 for the default
  bool bold = false, underline = false;
  bool any() const { return fg >= 0 || bg >= 0 || bold || underline; }
};

void applySgr(AnsiState& s, const std::vector<int>& params) {
  if (params.empty()) {
    s = AnsiState{};
    return;
  }
  for (std::size_t i = 0; i < params.size(); ++i) {
    const int p = params[i];
    if (p == 0) s = AnsiState{};
    else if (p == 1) s.bold = true;
    else if (p == 4) s.underline = true;
    else if (p == 22) s.bold = false;
    else if (p == 24) s.underline = false;
    else if (p >= 30 && p <= 37) s.fg = p - 30;
    else if (p >= 90 && p <= 97) s.fg = p - 90 + 8;
    else if (p == 39) s.fg = -1;
    else if (p >= 40 && p <= 47) s.bg = p - 40;
    else if (p >= 100 && p <= 107) s.bg = p - 100 + 8;
    else if (p == 49) s.bg = -1;
    else if (p == 38 || p == 48) {
      // 256-colour (5;N) and true colour (2;R;G;B) arguments are skipped:
      // the pages keep to the 16 named colours.
      if (i + 1 < params.size() && params[i + 1] == 5) i += 2;
      else if (i + 1 < params.size() && params[i + 1] == 2) i += 4;
    }
  }
}

void openSpan(std::string& out, const AnsiState& s) {
  out += "<span class=\"";
  bool first = true;
  auto cls = [&](const std::string& c) {
    if (!first) out += ' ';
    out += c;
    first = false;
  };
  if (s.fg >= 0) cls("ansi-fg-" + std::to_string(s.fg));
  if (s.bg >= 0) cls("ansi-bg-" + std::to_string(s.bg));
  if (s.bold) cls("ansi-bold");
  if (s.underline) cls("ansi-underline");
  out += "\">";
}

}  // namespace

std::string ansiToHtml(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  AnsiState state;
  bool open = false;
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c != '\x1b') {
      // Other control characters (bell, backspace, form feed) would only
      // confuse a browser: keep newline, tab and carriage return.
      const auto u = static_cast<unsigned char>(c);
      if (u >= 0x20 || c == '\n' || c == '\t' || c == '\r') appendEscaped(out, c);
      ++i;
      continue;
    }
    if (i + 1 >= text.size()) break;  // a lone ESC at the end
    if (text[i + 1] != '[') {
      i += 2;  // a two-byte escape (ESC c, ESC =, ...): dropped
      continue;
    }
    // CSI: parameter bytes 0x30-0x3F, intermediates 0x20-0x2F, final 0x40-0x7E.
    std::size_t j = i + 2;
    while (j < text.size() && static_cast<unsigned char>(text[j]) >= 0x20 &&
           static_cast<unsigned char>(text[j]) <= 0x3F)
      ++j;
    if (j >= text.size()) break;  // cut at the end of the text
    const char final = text[j];
    if (final == 'm') {
      std::vector<int> params;
      int value = 0;
      bool have = false, valid = true;
      for (std::size_t k = i + 2; k < j; ++k) {
        const char d = text[k];
        if (d >= '0' && d <= '9') {
          if (value < 100000) value = value * 10 + (d - '0');
          have = true;
        } else if (d == ';') {
          params.push_back(have ? value : 0);
          value = 0;
          have = false;
        } else {
          valid = false;  // private parameters ('?', '<'): not a colour
        }
      }
      if (have || !params.empty()) params.push_back(have ? value : 0);
      if (valid) {
        if (open) out += "</span>";
        applySgr(state, params);
        open = state.any();
        if (open) openSpan(out, state);
      }
    }
    i = j + 1;
  }
  if (open) out += "</span>";
  return out;
}

std::string safeHref(std::string_view url) {
  auto startsWithNoCase = [&](std::string_view prefix) {
    if (url.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i)
      if (std::tolower(static_cast<unsigned char>(url[i])) != prefix[i]) return false;
    return true;
  };
  // Control characters and spaces inside a URL are how "java\tscript:"
  // slips past a scheme check in some browsers: refuse them outright.
  for (char c : url)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return "";
  if (startsWithNoCase("https://") || startsWithNoCase("http://")) return std::string(url);
  if (url.size() >= 1 && url[0] == '/' && (url.size() == 1 || (url[1] != '/' && url[1] != '\\')))
    return std::string(url);
  return "";
}

std::string urlSegment(std::string_view part) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (char c : part) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += hex[u >> 4];
      out += hex[u & 15];
    }
  }
  return out;
}

std::string formatTime(std::int64_t unixSeconds) {
  if (unixSeconds <= 0) return "";
  const std::time_t t = static_cast<std::time_t>(unixSeconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

std::string formatDuration(std::int64_t seconds) {
  if (seconds < 0) seconds = 0;
  if (seconds < 60) return std::to_string(seconds) + " s";
  if (seconds < 3600)
    return std::to_string(seconds / 60) + " min " + std::to_string(seconds % 60) + " s";
  return std::to_string(seconds / 3600) + " h " + std::to_string(seconds % 3600 / 60) + " min";
}

}  // namespace bb::web
