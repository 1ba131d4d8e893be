#pragma once
// Standard base64 (RFC 4648 section 4, with '=' padding), as used by SCRAM
// and the password verifier format.
#include <optional>
#include <string>
#include <string_view>

namespace bb {

// Encodes arbitrary bytes as padded base64.
std::string base64Encode(std::string_view bytes);

// Decodes padded base64. Returns nullopt for any character outside the
// alphabet, a length that is not a multiple of 4, misplaced padding, or
// nonzero bits in the last character (so every value has one encoding).
std::optional<std::string> base64Decode(std::string_view text);

}  // namespace bb
