#pragma once
// The master's TLS certificate as data: making a self-signed one, reading
// one, and the two hashes the protocol uses (docs/protocol.md, "TLS"):
//  - the fingerprint slaves and clients pin: "SHA256:" + 64 lower-case hex
//    digits of SHA-256 over the certificate's DER bytes;
//  - the tls-server-end-point channel binding (RFC 5929): the certificate's
//    DER hashed with its signature's hash (SHA-256 for MD5 and SHA-1).
// OpenSSL only; no Asio here.
#include <optional>
#include <stdexcept>
#include <string>

namespace bb {

struct TlsError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// "SHA256:<hex>" of a DER certificate.
std::string certificateFingerprint(const std::string& der);

// Accepts "SHA256:" followed by 64 hex digits, upper or lower case, with or
// without ':' between byte pairs (as `openssl x509 -fingerprint -sha256`
// prints them). Returns the canonical form, or nullopt with `why` set.
std::optional<std::string> normalizeFingerprint(const std::string& text, std::string& why);

// The RFC 5929 tls-server-end-point binding data (raw hash bytes).
// Throws TlsError for bytes that are not a DER certificate.
std::string tlsServerEndPoint(const std::string& der);

// The DER bytes of the first certificate in a PEM file. Throws TlsError
// naming the file.
std::string readCertificateDer(const std::string& pemPath);

// Writes a new EC P-256 key (mode 0600) and a self-signed certificate for
// `commonName`, valid for `days`. Refuses to overwrite either file.
// Throws TlsError naming the file on any failure.
void makeSelfSignedCertificate(const std::string& certPath, const std::string& keyPath,
                               const std::string& commonName, int days = 3650);

}  // namespace bb
