#pragma once
// HMAC-SHA-256 (OpenSSL), hex, and a comparison that takes the same time
// whatever the bytes: what SCRAM logins and webhook signatures use.
#include <string>
#include <string_view>

namespace bb {

// The 32-byte HMAC-SHA-256 of `data` under `key`. Throws std::runtime_error
// only if OpenSSL fails.
std::string hmacSha256(std::string_view key, std::string_view data);
// Lower-case hex of `bytes`.
std::string hexEncode(std::string_view bytes);
// True when a and b are equal; for equal lengths the time does not depend
// on where they differ.
bool constantTimeEqual(std::string_view a, std::string_view b);

}  // namespace bb
