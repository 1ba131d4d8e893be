#pragma once
// Mail addresses as the mail reporter takes them: "user@host" or
// "Display Name <user@host>" (how version control writes authors).
#include <optional>
#include <string>

namespace bb {

// The bare address (addr-spec) of `text`, or nullopt when it does not look
// like one: one '@' with something on each side, no spaces, control
// characters, quotes or angle brackets in it, and a dot in the domain or
// the domain "localhost".
std::optional<std::string> mailAddress(const std::string& text);

// The display name before "<...>" (trimmed, quotes removed), or "".
std::string mailDisplayName(const std::string& text);

}  // namespace bb
