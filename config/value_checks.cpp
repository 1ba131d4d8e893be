// Checks of single config values: identifier names and password verifiers.
#include <charconv>

#include "common/base64.hpp"
#include "common/scram.hpp"
#include "config/yaml_util.hpp"

namespace bb::cfg {

namespace {

bool isAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// A slave or client refuses a verifier outside these, so the config must too.
constexpr long kMinIterations = kScramMinIterations;
constexpr long kMaxIterations = kScramMaxIterations;
constexpr std::size_t kKeyBytes = 32;  // SHA-256

}  // namespace

std::optional<std::string> checkName(const std::string& name, std::string_view extra) {
  if (name.empty()) return "name must not be empty";
  if (name.size() > 100) return "name '" + name.substr(0, 20) + "...' is longer than 100 characters";
  if (!isAlnum(name[0])) return "name '" + name + "' must start with a letter or digit";
  for (char c : name) {
    if (!isAlnum(c) && c != '.' && c != '_' && c != '-' && extra.find(c) == std::string_view::npos) {
      return "name '" + name + "' may only contain letters, digits, '.', '_', '-'" +
             (extra.empty() ? std::string() : " and '" + std::string(extra) + "'") +
             " (it is used in paths and URLs)";
    }
  }
  return std::nullopt;
}

std::optional<std::string> checkScramVerifier(const std::string& text) {
  static constexpr std::string_view kPrefix = "scram-sha-256$";
  static constexpr std::string_view kHelp =
      "; run `buildmaster hash-password` and paste its output "
      "(scram-sha-256$<iterations>:<salt>$<storedkey>:<serverkey>)";
  // Never echo the value: it may be a plain-text password typed by mistake.
  if (text.compare(0, kPrefix.size(), kPrefix) != 0) {
    return "password must be a SCRAM-SHA-256 verifier, not a plain password" + std::string(kHelp);
  }
  std::string_view rest = std::string_view(text).substr(kPrefix.size());
  std::size_t dollar = rest.find('$');
  if (dollar == std::string_view::npos || rest.find('$', dollar + 1) != std::string_view::npos) {
    return "password verifier must have exactly two '$'-separated parts after the prefix" +
           std::string(kHelp);
  }
  std::string_view iterSalt = rest.substr(0, dollar);
  std::string_view keys = rest.substr(dollar + 1);
  std::size_t c1 = iterSalt.find(':');
  std::size_t c2 = keys.find(':');
  if (c1 == std::string_view::npos || c2 == std::string_view::npos) {
    return "password verifier is missing a ':' separator" + std::string(kHelp);
  }
  std::string_view iter = iterSalt.substr(0, c1);
  long iterations = 0;
  auto [ptr, ec] = std::from_chars(iter.data(), iter.data() + iter.size(), iterations);
  if (ec != std::errc() || ptr != iter.data() + iter.size() || iter.empty() ||
      iterations < kMinIterations || iterations > kMaxIterations) {
    return "password verifier iteration count must be an integer between " +
           std::to_string(kMinIterations) + " and " + std::to_string(kMaxIterations) +
           std::string(kHelp);
  }
  auto salt = base64Decode(iterSalt.substr(c1 + 1));
  if (!salt || salt->empty()) return "password verifier salt is not valid base64" + std::string(kHelp);
  auto stored = base64Decode(keys.substr(0, c2));
  auto server = base64Decode(keys.substr(c2 + 1));
  if (!stored || !server || stored->size() != kKeyBytes || server->size() != kKeyBytes) {
    return "password verifier keys must be base64 of 32 bytes each" + std::string(kHelp);
  }
  // The checks above explain what is wrong; the parser the master logs in
  // with has the last word, so the two can never disagree.
  if (!parseScramVerifier(text)) return "password is not a valid SCRAM-SHA-256 verifier" + std::string(kHelp);
  return std::nullopt;
}

}  // namespace bb::cfg
