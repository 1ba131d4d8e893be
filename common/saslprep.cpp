#include "common/saslprep.hpp"

#include <cstdlib>
#include <memory>

#include <stringprep.h>

namespace bb {

std::optional<std::string> saslPrep(const std::string& utf8, SaslPrepMode mode, std::string& why) {
  // Printable ASCII is its own SASLprep form: no table touches it.
  bool ascii = true;
  for (unsigned char c : utf8) ascii = ascii && c >= 0x20 && c < 0x7f;
  if (ascii && !utf8.empty()) return utf8;
  if (utf8.find('\0') != std::string::npos) {
    why = "it contains a NUL character";
    return std::nullopt;
  }
  if (!stringprep_check_version(STRINGPREP_VERSION)) {
    why = "libidn is older than the version this program was built with";
    return std::nullopt;
  }
  char* out = nullptr;
  const auto flags = static_cast<Stringprep_profile_flags>(
      mode == SaslPrepMode::Stored ? STRINGPREP_NO_UNASSIGNED : 0);
  const int rc = stringprep_profile(utf8.c_str(), &out, "SASLprep", flags);
  std::unique_ptr<char, decltype(&std::free)> owned(out, &std::free);
  if (rc != STRINGPREP_OK) {
    why = std::string("SASLprep (RFC 4013) refuses it: ") + stringprep_strerror(static_cast<Stringprep_rc>(rc));
    return std::nullopt;
  }
  std::string result = out ? out : "";
  if (result.empty()) {
    why = "it is empty after SASLprep (RFC 4013) drops the characters mapped to nothing";
    return std::nullopt;
  }
  return result;
}

std::string scramNormalizePassword(const std::string& password) {
  std::string why;
  auto prepared = saslPrep(password, SaslPrepMode::Query, why);
  return prepared ? *prepared : password;
}

}  // namespace bb
