#include "common/scram.hpp"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <charconv>
#include <vector>

#include "common/base64.hpp"
#include "common/hmac.hpp"
#include "common/saslprep.hpp"

namespace bb {

namespace {

constexpr const char* kVerifierPrefix = "scram-sha-256$";
constexpr std::size_t kKeyBytes = SHA256_DIGEST_LENGTH;  // 32
constexpr std::size_t kNonceBytes = 18;                  // 24 base64 characters

[[noreturn]] void opensslFailed(const char* what) {
  const unsigned long code = ERR_get_error();
  char buf[256] = "unknown error";
  if (code != 0) ERR_error_string_n(code, buf, sizeof buf);
  throw std::runtime_error(std::string("OpenSSL ") + what + " failed: " + buf);
}

std::string randomBytes(std::size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1)
    opensslFailed("RAND_bytes");
  return out;
}

std::string sha256(const std::string& data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out, &len, EVP_sha256(), nullptr) != 1 ||
      len != kKeyBytes)
    opensslFailed("SHA-256");
  return std::string(reinterpret_cast<char*>(out), len);
}

std::string saltedPassword(const std::string& password, const std::string& salt,
                           int iterations) {
  std::string out(kKeyBytes, '\0');
  if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                        reinterpret_cast<const unsigned char*>(salt.data()),
                        static_cast<int>(salt.size()), iterations, EVP_sha256(),
                        static_cast<int>(kKeyBytes),
                        reinterpret_cast<unsigned char*>(out.data())) != 1)
    opensslFailed("PBKDF2-HMAC-SHA-256");
  return out;
}

std::string xorBytes(const std::string& a, const std::string& b) {
  std::string out(a.size(), '\0');
  for (std::size_t i = 0; i < a.size(); ++i) out[i] = static_cast<char>(a[i] ^ b[i]);
  return out;
}

// A nonce is printable ASCII except ',' (RFC 5802 "printable").
bool validNonce(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < 0x21 || c > 0x7e || c == ',') return false;
  return true;
}

std::optional<int> parseIterations(const std::string& s) {
  if (s.empty() || s.size() > 9) return std::nullopt;
  int v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  if (v < kScramMinIterations || v > kScramMaxIterations) return std::nullopt;
  return v;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    const std::size_t p = s.find(sep, start);
    out.push_back(s.substr(start, p == std::string::npos ? std::string::npos : p - start));
    if (p == std::string::npos) return out;
    start = p + 1;
  }
}

// Value of attribute `name` ("x=value"); throws naming the message otherwise.
std::string attribute(const std::string& attr, char name, const char* message) {
  if (attr.size() < 2 || attr[0] != name || attr[1] != '=')
    throw ScramError(std::string("malformed SCRAM ") + message + ": expected '" + name +
                     "=' attribute");
  return attr.substr(2);
}

// Per-process key for the fake salts of unknown users: the same name gets
// the same salt for the life of the master, so a prober sees nothing change.
const std::string& fakeSaltKey() {
  static const std::string key = randomBytes(32);
  return key;
}

}  // namespace

ScramVerifier deriveScramVerifier(const std::string& password, const std::string& salt,
                                  int iterations) {
  if (iterations < kScramMinIterations || iterations > kScramMaxIterations)
    throw ScramError("SCRAM iteration count " + std::to_string(iterations) +
                     " is outside [" + std::to_string(kScramMinIterations) + ", " +
                     std::to_string(kScramMaxIterations) + "]");
  if (salt.empty()) throw ScramError("SCRAM salt is empty");
  const std::string salted = saltedPassword(scramNormalizePassword(password), salt, iterations);
  ScramVerifier v;
  v.iterations = iterations;
  v.salt = salt;
  v.storedKey = sha256(hmacSha256(salted, "Client Key"));
  v.serverKey = hmacSha256(salted, "Server Key");
  return v;
}

std::string formatScramVerifier(const ScramVerifier& v) {
  return std::string(kVerifierPrefix) + std::to_string(v.iterations) + ":" +
         base64Encode(v.salt) + "$" + base64Encode(v.storedKey) + ":" +
         base64Encode(v.serverKey);
}

std::string makeScramVerifier(const std::string& password, int iterations) {
  return formatScramVerifier(
      deriveScramVerifier(password, randomBytes(kScramSaltBytes), iterations));
}

std::optional<ScramVerifier> parseScramVerifier(const std::string& text) {
  const std::string prefix = kVerifierPrefix;
  if (text.compare(0, prefix.size(), prefix) != 0) return std::nullopt;
  const std::vector<std::string> parts = split(text.substr(prefix.size()), '$');
  if (parts.size() != 2) return std::nullopt;
  const std::vector<std::string> iterSalt = split(parts[0], ':');
  const std::vector<std::string> keys = split(parts[1], ':');
  if (iterSalt.size() != 2 || keys.size() != 2) return std::nullopt;
  const auto iterations = parseIterations(iterSalt[0]);
  auto salt = base64Decode(iterSalt[1]);
  auto stored = base64Decode(keys[0]);
  auto server = base64Decode(keys[1]);
  if (!iterations || !salt || salt->empty() || !stored || stored->size() != kKeyBytes ||
      !server || server->size() != kKeyBytes)
    return std::nullopt;
  return ScramVerifier{*iterations, std::move(*salt), std::move(*stored), std::move(*server)};
}

std::string scramEscapeName(const std::string& name) {
  std::string out;
  for (char c : name) {
    if (c == ',') out += "=2C";
    else if (c == '=') out += "=3D";
    else out += c;
  }
  return out;
}

std::string scramUnescapeName(const std::string& escaped) {
  std::string out;
  for (std::size_t i = 0; i < escaped.size(); ++i) {
    const char c = escaped[i];
    if (c == ',') throw ScramError("malformed SCRAM user name: unescaped ','");
    if (c != '=') {
      out += c;
      continue;
    }
    const std::string code = escaped.substr(i + 1, 2);
    if (code == "2C") out += ',';
    else if (code == "3D") out += '=';
    else throw ScramError("malformed SCRAM user name: '=' must be followed by 2C or 3D");
    i += 2;
  }
  return out;
}

// ---- client ----

ScramClient::ScramClient(std::string user, std::string password, std::string channelBinding)
    : user_(std::move(user)),
      password_(std::move(password)),
      channelBinding_(std::move(channelBinding)),
      gs2Header_(channelBinding_.empty() ? "n,," : std::string(kScramGs2ChannelBound) + ",,") {}

std::string ScramClient::clientFirst() {
  if (nonce_.empty()) nonce_ = base64Encode(randomBytes(kNonceBytes));
  clientFirstBare_ = "n=" + scramEscapeName(user_) + ",r=" + nonce_;
  return gs2Header_ + clientFirstBare_;
}

std::string ScramClient::clientFinal(const std::string& serverFirst) {
  if (clientFirstBare_.empty()) throw ScramError("SCRAM clientFinal() before clientFirst()");
  const std::vector<std::string> attrs = split(serverFirst, ',');
  if (attrs.size() < 3) throw ScramError("malformed SCRAM server-first-message: too few attributes");
  if (!attrs[0].empty() && attrs[0][0] == 'm')
    throw ScramError("SCRAM server-first-message requires an unsupported extension");
  const std::string nonce = attribute(attrs[0], 'r', "server-first-message");
  const std::string saltB64 = attribute(attrs[1], 's', "server-first-message");
  const std::string iterText = attribute(attrs[2], 'i', "server-first-message");
  if (!validNonce(nonce) || nonce.size() <= nonce_.size() ||
      nonce.compare(0, nonce_.size(), nonce_) != 0)
    throw ScramError("SCRAM server nonce does not extend the client nonce");
  const auto salt = base64Decode(saltB64);
  if (!salt || salt->empty()) throw ScramError("SCRAM server-first-message has a bad salt");
  const auto iterations = parseIterations(iterText);
  if (!iterations)
    throw ScramError("SCRAM iteration count '" + iterText + "' is not an integer in [" +
                     std::to_string(kScramMinIterations) + ", " +
                     std::to_string(kScramMaxIterations) + "]");

  const std::string salted = saltedPassword(scramNormalizePassword(password_), *salt, *iterations);
  const std::string clientKey = hmacSha256(salted, "Client Key");
  const std::string storedKey = sha256(clientKey);
  const std::string withoutProof = "c=" + base64Encode(gs2Header_ + channelBinding_) + ",r=" + nonce;
  const std::string authMessage = clientFirstBare_ + "," + serverFirst + "," + withoutProof;
  const std::string clientSignature = hmacSha256(storedKey, authMessage);
  expectedServerSignature_ = hmacSha256(hmacSha256(salted, "Server Key"), authMessage);
  return withoutProof + ",p=" + base64Encode(xorBytes(clientKey, clientSignature));
}

bool ScramClient::verifyServerFinal(const std::string& serverFinal) {
  if (expectedServerSignature_.empty()) return false;
  if (serverFinal.size() < 2 || serverFinal.compare(0, 2, "v=") != 0) return false;
  // Extensions after the signature are allowed by the grammar; ignore them.
  const auto sig = base64Decode(split(serverFinal.substr(2), ',')[0]);
  return sig && constantTimeEqual(*sig, expectedServerSignature_);
}

// ---- server ----

ScramServer::ScramServer(Lookup lookup, std::string channelBinding)
    : lookup_(std::move(lookup)), channelBinding_(std::move(channelBinding)) {}

std::string ScramServer::serverFirst(const std::string& clientFirst) {
  if (state_ != State::Initial) throw ScramError("SCRAM serverFirst() called twice");
  // gs2-header: cbind-flag "," [authzid] ","
  const std::vector<std::string> attrs = split(clientFirst, ',');
  if (attrs.size() < 4) throw ScramError("malformed SCRAM client-first-message: too few attributes");
  if (!channelBinding_.empty()) {
    // Over TLS the binding is required: "n" or "y" could be a peer talking
    // to someone in the middle, who terminates TLS with another certificate.
    if (attrs[0] != kScramGs2ChannelBound) {
      if (attrs[0] == "n" || attrs[0] == "y")
        throw ScramError("this connection is TLS: SCRAM must use channel binding (gs2 header '" +
                         std::string(kScramGs2ChannelBound) + ",,'), got '" + attrs[0] + ",,'");
      throw ScramError("SCRAM channel binding type '" + attrs[0] +
                       "' is not supported (only tls-server-end-point)");
    }
  } else if (attrs[0] != "n" && attrs[0] != "y") {
    if (!attrs[0].empty() && attrs[0][0] == 'p')
      throw ScramError("SCRAM channel binding needs TLS; this connection is plain TCP");
    throw ScramError("malformed SCRAM client-first-message: bad gs2 header");
  }
  if (!attrs[1].empty()) throw ScramError("SCRAM authorization identities are not supported");
  if (!attrs[2].empty() && attrs[2][0] == 'm')
    throw ScramError("SCRAM client-first-message requires an unsupported extension");
  user_ = scramUnescapeName(attribute(attrs[2], 'n', "client-first-message"));
  const std::string clientNonce = attribute(attrs[3], 'r', "client-first-message");
  if (!validNonce(clientNonce)) throw ScramError("malformed SCRAM client nonce");
  gs2Header_ = attrs[0] + ",,";
  clientFirstBare_ = clientFirst.substr(gs2Header_.size());

  std::optional<std::string> text = lookup_(user_);
  if (text) verifier_ = parseScramVerifier(*text);
  std::string salt;
  int iterations = kScramDefaultIterations;
  if (verifier_) {
    salt = verifier_->salt;
    iterations = verifier_->iterations;
  } else {
    salt = hmacSha256(fakeSaltKey(), user_).substr(0, kScramSaltBytes);
  }
  if (suffix_.empty()) suffix_ = base64Encode(randomBytes(kNonceBytes));
  nonce_ = clientNonce + suffix_;
  serverFirst_ = "r=" + nonce_ + ",s=" + base64Encode(salt) + ",i=" + std::to_string(iterations);
  state_ = State::SentFirst;
  return serverFirst_;
}

std::optional<std::string> ScramServer::serverFinal(const std::string& clientFinal) {
  if (state_ != State::SentFirst)
    throw ScramError(state_ == State::Initial ? "SCRAM serverFinal() before serverFirst()"
                                              : "SCRAM serverFinal() called twice");
  state_ = State::Finished;
  const std::size_t proofAt = clientFinal.rfind(",p=");
  if (proofAt == std::string::npos)
    throw ScramError("malformed SCRAM client-final-message: no proof");
  const std::string withoutProof = clientFinal.substr(0, proofAt);
  const std::vector<std::string> attrs = split(withoutProof, ',');
  if (attrs.size() < 2) throw ScramError("malformed SCRAM client-final-message: too few attributes");
  const std::string binding = attribute(attrs[0], 'c', "client-final-message");
  const std::string nonce = attribute(attrs[1], 'r', "client-final-message");
  const auto proof = base64Decode(clientFinal.substr(proofAt + 3));
  if (!proof) throw ScramError("malformed SCRAM client-final-message: proof is not base64");

  if (!verifier_) return std::nullopt;
  if (binding != base64Encode(gs2Header_ + channelBinding_) || nonce != nonce_ || proof->size() != kKeyBytes)
    return std::nullopt;
  const std::string authMessage = clientFirstBare_ + "," + serverFirst_ + "," + withoutProof;
  const std::string clientSignature = hmacSha256(verifier_->storedKey, authMessage);
  const std::string clientKey = xorBytes(*proof, clientSignature);
  if (!constantTimeEqual(sha256(clientKey), verifier_->storedKey)) return std::nullopt;
  return "v=" + base64Encode(hmacSha256(verifier_->serverKey, authMessage));
}

}  // namespace bb
