#pragma once
// The bounds of a step's named URLs, shared by the config check (`urls:`)
// and the master, which also takes them from a command's `##buildbot-url`
// lines (docs/configuration.md, "Named URLs").
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "common/message.hpp"  // isValidUtf8

namespace bb {

inline constexpr std::size_t kMaxStepUrls = 20;         // per step, from config and command
inline constexpr std::size_t kMaxStepUrlNameBytes = 100;
inline constexpr std::size_t kMaxStepUrlBytes = 2048;

// Why `name` cannot name a step URL (empty, too long, a control
// character, blank at either end), or nullopt.
inline std::optional<std::string> checkStepUrlName(std::string_view name) {
  if (name.empty()) return "the link name is empty";
  if (name.size() > kMaxStepUrlNameBytes)
    return "the link name is " + std::to_string(name.size()) + " bytes; at most " +
           std::to_string(kMaxStepUrlNameBytes) + " are allowed";
  if (!isValidUtf8(name)) return "the link name is not UTF-8";
  for (unsigned char c : name)
    if (c < 0x20 || c == 0x7f) return "the link name has a control character";
  if (name.front() == ' ' || name.back() == ' ') return "the link name starts or ends with a space";
  return std::nullopt;
}

// Why `url` cannot be a step URL (empty, too long, whitespace or a
// control character), or nullopt. Any scheme is stored; the pages make a
// link only of http(s):// and site paths.
inline std::optional<std::string> checkStepUrl(std::string_view url) {
  if (url.empty()) return "the URL is empty";
  if (url.size() > kMaxStepUrlBytes)
    return "the URL is " + std::to_string(url.size()) + " bytes; at most " +
           std::to_string(kMaxStepUrlBytes) + " are allowed";
  if (!isValidUtf8(url)) return "the URL is not UTF-8";
  for (unsigned char c : url)
    if (c <= 0x20 || c == 0x7f) return "the URL has a space or a control character (percent-encode it)";
  return std::nullopt;
}

}  // namespace bb
