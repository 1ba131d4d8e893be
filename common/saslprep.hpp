#pragma once
// SASLprep (RFC 4013, the "SASLprep" stringprep profile of RFC 3454) for
// SCRAM passwords, through GNU libidn: non-ASCII spaces become U+0020,
// characters "commonly mapped to nothing" (soft hyphen, zero-width
// joiners, ...) are dropped, the result is in Unicode NFKC, and control
// characters, private-use and other prohibited code points, and wrong
// bidirectional text are refused. So "I<U+00AD>X", "<U+2168>" and "IX" are
// one password, as in every other SCRAM implementation.
#include <optional>
#include <string>

namespace bb {

enum class SaslPrepMode {
  Query,   // unassigned code points pass (a peer logging in)
  Stored,  // unassigned code points are refused (a verifier being made)
};

// The prepared UTF-8 string, or nullopt with `why` saying what is wrong
// (not UTF-8, a prohibited character, bidi rules, empty result).
std::optional<std::string> saslPrep(const std::string& utf8, SaslPrepMode mode, std::string& why);

// What SCRAM hashes: saslPrep(password, Query), or the password's own
// bytes when SASLprep refuses it (as PostgreSQL does), so a password that
// worked before SASLprep still does. `buildmaster hash-password` refuses
// such passwords for new verifiers.
std::string scramNormalizePassword(const std::string& password);

}  // namespace bb
