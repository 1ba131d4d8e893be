// Base64 through OpenSSL's EVP_EncodeBlock / EVP_DecodeBlock (already
// linked for TLS and HMAC). OpenSSL's decoder is lenient (it skips
// whitespace and accepts non-canonical last characters), so a decoded
// value is accepted only if it encodes back to exactly the input: that
// gives the strict contract in base64.hpp with no alphabet of our own.
#include "common/base64.hpp"

#include <openssl/evp.h>

namespace bb {

std::string base64Encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::optional<std::string> base64Decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  if (text.empty()) return std::string();
  std::string out(3 * (text.size() / 4), '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  // EVP_DecodeBlock counts the padding as zero bytes.
  std::size_t pad = 0;
  if (text.back() == '=') pad = text[text.size() - 2] == '=' ? 2 : 1;
  if (static_cast<std::size_t>(n) < pad) return std::nullopt;
  out.resize(static_cast<std::size_t>(n) - pad);
  if (base64Encode(out) != text) return std::nullopt;
  return out;
}

}  // namespace bb
