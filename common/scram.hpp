#pragma once
// SCRAM-SHA-256 (RFC 5802 / RFC 7677). Over TLS with channel binding
// tls-server-end-point (RFC 5929; gs2 header "p=tls-server-end-point,,",
// c= carries the header and the hash of the master's certificate); over
// plain TCP without (gs2 header "n,,", or "y,," from a peer that could
// bind). The master stores only verifiers (PostgreSQL's format), so neither
// the config file nor the wire ever holds a password the master could leak.
//
// Passwords are prepared with SASLprep (common/saslprep.hpp) before they
// are hashed, on both sides, so a non-ASCII password verifies as in other
// SCRAM implementations. Names are restricted ASCII (config checkName) and
// used as they are.
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>

namespace bb {

// Malformed SCRAM input, or a call out of order.
struct ScramError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

inline constexpr int kScramDefaultIterations = 4096;
inline constexpr const char* kScramGs2ChannelBound = "p=tls-server-end-point";
// A client refuses fewer iterations (a downgrade) and more (a stall).
inline constexpr int kScramMinIterations = 1000;
inline constexpr int kScramMaxIterations = 10'000'000;
inline constexpr std::size_t kScramSaltBytes = 16;

// What a server stores for one user. All byte strings are raw (not base64).
struct ScramVerifier {
  int iterations = 0;
  std::string salt;
  std::string storedKey;  // SHA-256(ClientKey)
  std::string serverKey;  // HMAC(SaltedPassword, "Server Key")
};

// Derives the verifier of `password` with a given salt (raw bytes).
// Throws ScramError if iterations is outside [kScramMinIterations, kScramMaxIterations].
ScramVerifier deriveScramVerifier(const std::string& password, const std::string& salt,
                                  int iterations);

// Formats "scram-sha-256$<iter>:<b64 salt>$<b64 StoredKey>:<b64 ServerKey>".
std::string formatScramVerifier(const ScramVerifier& v);

// A verifier for `password` with a fresh random 16-byte salt, formatted.
// Throws ScramError for an out-of-range iteration count.
std::string makeScramVerifier(const std::string& password,
                              int iterations = kScramDefaultIterations);

// Parses the formatted verifier; nullopt if it is not exactly that format
// (wrong prefix, bad base64, keys not 32 bytes, iterations out of range).
std::optional<ScramVerifier> parseScramVerifier(const std::string& text);

// RFC 5802 saslname escaping: ',' -> "=2C", '=' -> "=3D".
std::string scramEscapeName(const std::string& name);
// The reverse; throws ScramError for a '=' not followed by 2C or 3D.
std::string scramUnescapeName(const std::string& escaped);

// The authenticating side (slave, client).
class ScramClient {
 public:
  // channelBinding: the tls-server-end-point data of the TLS connection
  // (Connection::channelBinding()), "" over plain TCP.
  ScramClient(std::string user, std::string password, std::string channelBinding = "");

  // "<gs2 header>n=<escaped user>,r=<client nonce>". Call once, first.
  std::string clientFirst();

  // Answers the server-first-message with "c=<b64 of gs2 header + binding
  // data>,r=<nonce>,p=<proof>".
  // Throws ScramError if it is malformed, its nonce does not extend ours,
  // its salt is empty, or its iteration count is out of range.
  std::string clientFinal(const std::string& serverFirst);

  // True only if `serverFinal` is "v=<the signature a server that knows our
  // verifier would compute>". False for "e=...", garbage, or out of order.
  bool verifyServerFinal(const std::string& serverFinal);

  // Test hook: the nonce clientFirst() will use instead of a random one.
  void setNonceForTesting(std::string nonce) { nonce_ = std::move(nonce); }

 private:
  std::string user_;
  std::string password_;
  std::string channelBinding_;
  std::string gs2Header_;
  std::string nonce_;
  std::string clientFirstBare_;
  std::string expectedServerSignature_;  // raw bytes; empty until clientFinal()
};

// The verifying side (master). One instance per login attempt: its server
// nonce is what makes a replayed client-final fail.
class ScramServer {
 public:
  // Returns the stored verifier text for a user, or nullopt if unknown.
  using Lookup = std::function<std::optional<std::string>(const std::string& user)>;

  // channelBinding: this connection's tls-server-end-point data; when it
  // is not empty the client must bind to it ("p=tls-server-end-point"),
  // when it is empty the client must not ask for binding.
  explicit ScramServer(Lookup lookup, std::string channelBinding = "");

  // Answers a client-first-message with "r=<nonce>,s=<salt>,i=<iter>".
  // An unknown user (or an unparsable verifier) gets a deterministic fake
  // salt and will fail in serverFinal(). Throws ScramError if malformed,
  // for a gs2 header that does not fit the channel binding above, for an
  // authzid, or when called twice.
  std::string serverFirst(const std::string& clientFirst);

  // Checks the client-final-message. Returns "v=<server signature>" when
  // the proof is right, nullopt when authentication failed (wrong
  // password, unknown user, nonce or channel-binding mismatch). Throws
  // ScramError if it is malformed or called out of order.
  std::optional<std::string> serverFinal(const std::string& clientFinal);

  // The (unescaped) user name from the client-first-message.
  const std::string& user() const { return user_; }

  // Test hook: the suffix serverFirst() appends to the client nonce.
  void setNonceSuffixForTesting(std::string suffix) { suffix_ = std::move(suffix); }

 private:
  enum class State { Initial, SentFirst, Finished };
  Lookup lookup_;
  std::string channelBinding_;
  State state_ = State::Initial;
  std::string user_;
  std::string gs2Header_;
  std::string clientFirstBare_;
  std::string serverFirst_;
  std::string nonce_;  // client nonce + server suffix
  std::string suffix_;
  std::optional<ScramVerifier> verifier_;  // nullopt: unknown user, always fails
};

}  // namespace bb
