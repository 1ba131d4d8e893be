#include "master/reporters/irc_line.hpp"

#include <algorithm>
#include <cctype>

#include <spdlog/spdlog.h>

namespace bb {

std::string IrcLine::nick() const {
  const auto bang = prefix.find('!');
  return prefix.substr(0, bang);
}

std::optional<IrcLine> parseIrcLine(const std::string& raw) {
  std::string s = raw;
  while (!s.empty() && (s.back() == '\r' || s.back() == '\n')) s.pop_back();
  std::size_t i = 0;
  auto word = [&]() {
    while (i < s.size() && s[i] == ' ') ++i;
    const auto end = std::min(s.find(' ', i), s.size());
    std::string w = s.substr(i, end - i);
    i = end;
    return w;
  };
  IrcLine l;
  if (i < s.size() && s[i] == '@') word();
  while (i < s.size() && s[i] == ' ') ++i;
  if (i < s.size() && s[i] == ':') {
    ++i;
    l.prefix = word();
  }
  l.command = word();
  if (l.command.empty()) return std::nullopt;
  for (;;) {
    while (i < s.size() && s[i] == ' ') ++i;
    if (i >= s.size()) break;
    if (s[i] == ':') {
      l.params.push_back(s.substr(i + 1));
      break;
    }
    l.params.push_back(word());
  }
  return l;
}

namespace {

char ircLower(char c) {
  if (c == '[') return '{';
  if (c == ']') return '}';
  if (c == '\\') return '|';
  return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
}

bool globMatch(const char* p, const char* s) {
  for (; *p; ++p, ++s) {
    if (*p == '*') {
      for (const char* t = s;; ++t) {
        if (globMatch(p + 1, t)) return true;
        if (!*t) return false;
      }
    }
    if (!*s || (*p != '?' && ircLower(*p) != ircLower(*s))) return false;
  }
  return *s == 0;
}

}  // namespace

bool ircNickMatches(const std::string& pattern, const std::string& nick) {
  return globMatch(pattern.c_str(), nick.c_str());
}

std::vector<std::string> splitIrcText(const std::string& text, std::size_t max) {
  std::vector<std::string> out;
  std::string cur;
  auto flush = [&] {
    while (!cur.empty() && cur.back() == ' ') cur.pop_back();
    if (!cur.empty()) out.push_back(cur);
    cur.clear();
  };
  for (char c : text) {
    if (c == '\n') {
      flush();
      continue;
    }
    const auto u = static_cast<unsigned char>(c);
    // Bold, colour, reset, reverse, italics, underline stay.
    if (u < 0x20 && c != 0x02 && c != 0x03 && c != 0x0f && c != 0x16 && c != 0x1d && c != 0x1f) c = ' ';
    cur += c;
    if (cur.size() >= max) {
      const auto sp = cur.rfind(' ');
      std::string rest;
      if (sp != std::string::npos && sp > max / 2) {
        rest = cur.substr(sp + 1);
        cur.resize(sp);
      }
      flush();
      cur = rest;
    }
  }
  flush();
  return out;
}

IrcSendQueue::IrcSendQueue(double ratePerSecond, int burst, std::size_t maxQueued)
    : rate_(ratePerSecond), burst_(burst), tokens_(burst), max_(std::max<std::size_t>(maxQueued, 1)) {}

void IrcSendQueue::push(std::string line) {
  if (lines_.size() >= max_) {
    ++dropped_;
    // Logged per drop, but the count says how many in all.
    spdlog::warn("irc: send queue full ({} lines): dropped the oldest line ({} dropped so far): {}", max_,
                 dropped_, lines_.front().substr(0, 80));
    lines_.pop_front();
  }
  lines_.push_back(std::move(line));
}

void IrcSendQueue::refill(SteadyTime now) {
  if (last_) {
    const double secs = std::chrono::duration<double>(now - *last_).count();
    tokens_ = std::min(burst_, tokens_ + std::max(0.0, secs) * rate_);
  }
  last_ = now;
}

std::vector<std::string> IrcSendQueue::take(SteadyTime now) {
  refill(now);
  std::vector<std::string> out;
  while (!lines_.empty() && tokens_ >= 1.0) {
    tokens_ -= 1.0;
    out.push_back(std::move(lines_.front()));
    lines_.pop_front();
  }
  return out;
}

std::chrono::milliseconds IrcSendQueue::wait(SteadyTime now) const {
  if (lines_.empty()) return std::chrono::milliseconds(0);
  double tokens = tokens_;
  if (last_) tokens = std::min(burst_, tokens + std::chrono::duration<double>(now - *last_).count() * rate_);
  if (tokens >= 1.0) return std::chrono::milliseconds(0);
  return std::chrono::milliseconds(static_cast<long>((1.0 - tokens) / rate_ * 1000.0) + 1);
}

void IrcSendQueue::clear() {
  lines_.clear();
  tokens_ = burst_;
  last_.reset();
}

}  // namespace bb
