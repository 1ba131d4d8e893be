#include "common/tls_cert.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cctype>
#include <cstring>
#include <strings.h>
#include <memory>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

namespace bb {

namespace {

template <typename T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const { F(p); }
};
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using PKeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;

std::string opensslError() {
  const unsigned long e = ERR_get_error();
  if (e == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

std::string hashWith(const EVP_MD* md, const std::string& data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out, &len, md, nullptr) != 1)
    throw TlsError("cannot hash the certificate: " + opensslError());
  return std::string(reinterpret_cast<const char*>(out), len);
}

X509Ptr parseDer(const std::string& der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!cert) throw TlsError("not a DER certificate: " + opensslError());
  return cert;
}

std::string toDer(X509* cert) {
  unsigned char* buf = nullptr;
  const int n = i2d_X509(cert, &buf);
  if (n <= 0) throw TlsError("cannot encode the certificate: " + opensslError());
  std::string der(reinterpret_cast<const char*>(buf), static_cast<std::size_t>(n));
  OPENSSL_free(buf);
  return der;
}

// fopen with O_EXCL and a mode, so a key file is never readable by others
// even for a moment and an existing file is never overwritten.
FILE* createExclusive(const std::string& path, mode_t mode) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) throw TlsError("cannot create " + path + ": " + std::strerror(errno));
  FILE* f = ::fdopen(fd, "w");
  if (!f) {
    ::close(fd);
    throw TlsError("cannot open " + path + ": " + std::strerror(errno));
  }
  return f;
}

}  // namespace

std::string certificateFingerprint(const std::string& der) {
  static const char* kHex = "0123456789abcdef";
  std::string out = "SHA256:";
  for (unsigned char c : hashWith(EVP_sha256(), der)) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

std::optional<std::string> normalizeFingerprint(const std::string& text, std::string& why) {
  const std::string prefix = "SHA256:";
  if (text.size() < prefix.size() || strncasecmp(text.c_str(), prefix.c_str(), prefix.size()) != 0) {
    why = "a fingerprint starts with 'SHA256:'";
    return std::nullopt;
  }
  std::string hex;
  for (std::size_t i = prefix.size(); i < text.size(); ++i) {
    const char c = text[i];
    if (c == ':') continue;
    if (!std::isxdigit(static_cast<unsigned char>(c))) {
      why = std::string("'") + c + "' is not a hex digit";
      return std::nullopt;
    }
    hex.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  if (hex.size() != 64) {
    why = "a SHA-256 fingerprint has 64 hex digits, this one has " + std::to_string(hex.size());
    return std::nullopt;
  }
  return prefix + hex;
}

std::string tlsServerEndPoint(const std::string& der) {
  X509Ptr cert = parseDer(der);
  int mdNid = NID_undef, pkNid = NID_undef;
  const EVP_MD* md = nullptr;
  if (OBJ_find_sigid_algs(X509_get_signature_nid(cert.get()), &mdNid, &pkNid) && mdNid != NID_undef)
    md = EVP_get_digestbynid(mdNid);
  // RFC 5929 section 4.1: MD5 and SHA-1 are replaced by SHA-256; so is a
  // signature without a separate hash (Ed25519), which the RFC leaves open.
  if (!md || mdNid == NID_md5 || mdNid == NID_sha1) md = EVP_sha256();
  return hashWith(md, der);
}

std::string readCertificateDer(const std::string& pemPath) {
  FILE* f = std::fopen(pemPath.c_str(), "r");
  if (!f) throw TlsError("cannot open the certificate " + pemPath + ": " + std::strerror(errno));
  X509Ptr cert(PEM_read_X509(f, nullptr, nullptr, nullptr));
  std::fclose(f);
  if (!cert) throw TlsError(pemPath + " holds no PEM certificate: " + opensslError());
  return toDer(cert.get());
}

void makeSelfSignedCertificate(const std::string& certPath, const std::string& keyPath,
                               const std::string& commonName, int days) {
  PKeyPtr key(EVP_EC_gen("P-256"));
  if (!key) throw TlsError("cannot make an EC P-256 key: " + opensslError());
  X509Ptr cert(X509_new());
  if (!cert) throw TlsError("cannot make a certificate: " + opensslError());
  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof serial) != 1) throw TlsError("no random bytes: " + opensslError());
  serial[0] &= 0x7f;  // a positive serial number
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  const bool ok =
      bn && X509_set_version(cert.get(), 2) == 1 &&
      BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get())) != nullptr &&
      X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) != nullptr &&
      X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(days) * 86400) != nullptr &&
      X509_NAME_add_entry_by_txt(X509_get_subject_name(cert.get()), "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(commonName.c_str()), -1, -1,
                                 0) == 1 &&
      X509_set_issuer_name(cert.get(), X509_get_subject_name(cert.get())) == 1 &&
      X509_set_pubkey(cert.get(), key.get()) == 1 &&
      X509_sign(cert.get(), key.get(), EVP_sha256()) > 0;
  BN_free(bn);
  if (!ok) throw TlsError("cannot make the self-signed certificate: " + opensslError());

  FILE* kf = createExclusive(keyPath, 0600);
  const bool keyOk = PEM_write_PrivateKey(kf, key.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1;
  if (std::fclose(kf) != 0 || !keyOk) throw TlsError("cannot write " + keyPath + ": " + opensslError());
  FILE* cf = createExclusive(certPath, 0644);
  const bool certOk = PEM_write_X509(cf, cert.get()) == 1;
  if (std::fclose(cf) != 0 || !certOk) throw TlsError("cannot write " + certPath + ": " + opensslError());
}

}  // namespace bb
