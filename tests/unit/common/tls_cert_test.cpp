// The master's certificate as data: making it, its fingerprint (checked
// against an independent SHA-256), the channel binding hash, and the
// fingerprint text users paste.
#include "common/tls_cert.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include <gtest/gtest.h>
#include <openssl/evp.h>

namespace bb {
namespace {

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/bb-tlscert-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() { std::system(("rm -rf '" + path_ + "'").c_str()); }
  std::string sub(const std::string& f) const { return path_ + "/" + f; }

 private:
  std::string path_;
};

std::string sha256(const std::string& data) {
  unsigned char out[32];
  unsigned int n = 0;
  EVP_Digest(data.data(), data.size(), out, &n, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<char*>(out), n);
}

TEST(TlsCert, SelfSignedPairHasAPrivateKeyAndAStableFingerprint) {
  TempDir d;
  makeSelfSignedCertificate(d.sub("c.pem"), d.sub("k.pem"), "buildmaster test");
  struct stat st {};
  ASSERT_EQ(::stat(d.sub("k.pem").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  const std::string der = readCertificateDer(d.sub("c.pem"));
  const std::string fp = certificateFingerprint(der);
  ASSERT_EQ(fp.size(), 7u + 64u);
  EXPECT_EQ(fp.rfind("SHA256:", 0), 0u);
  static const char* kHex = "0123456789abcdef";
  std::string hex;
  for (unsigned char c : sha256(der)) hex += std::string{kHex[c >> 4], kHex[c & 15]};
  EXPECT_EQ(fp, "SHA256:" + hex);
  // ecdsa-with-SHA256: the channel binding is SHA-256 of the DER (RFC 5929).
  EXPECT_EQ(tlsServerEndPoint(der), sha256(der));
}

TEST(TlsCert, NeverOverwritesAndNamesTheFile) {
  TempDir d;
  std::ofstream(d.sub("k.pem")) << "precious";
  try {
    makeSelfSignedCertificate(d.sub("c.pem"), d.sub("k.pem"), "x");
    FAIL() << "an existing key was overwritten";
  } catch (const TlsError& e) {
    EXPECT_NE(std::string(e.what()).find(d.sub("k.pem")), std::string::npos) << e.what();
  }
  std::ifstream in(d.sub("k.pem"));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "precious");
}

TEST(TlsCert, ReadingAMissingOrNonPemFileNamesIt) {
  TempDir d;
  try {
    readCertificateDer(d.sub("none.pem"));
    FAIL();
  } catch (const TlsError& e) {
    EXPECT_NE(std::string(e.what()).find("none.pem"), std::string::npos) << e.what();
  }
  std::ofstream(d.sub("bad.pem")) << "not a certificate\n";
  try {
    readCertificateDer(d.sub("bad.pem"));
    FAIL();
  } catch (const TlsError& e) {
    EXPECT_NE(std::string(e.what()).find("bad.pem holds no PEM certificate"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(tlsServerEndPoint("garbage"), TlsError);
}

TEST(TlsCert, FingerprintTextIsNormalized) {
  const std::string canon = "SHA256:" + std::string(62, 'a') + "0f";
  std::string why;
  std::string colons = "sha256:";
  for (int i = 0; i < 31; ++i) colons += "AA:";
  colons += "0F";
  EXPECT_EQ(normalizeFingerprint(colons, why), canon) << why;
  EXPECT_EQ(normalizeFingerprint(canon, why), canon) << why;
  EXPECT_FALSE(normalizeFingerprint("SHA1:" + std::string(40, 'a'), why));
  EXPECT_EQ(why, "a fingerprint starts with 'SHA256:'");
  EXPECT_FALSE(normalizeFingerprint("SHA256:" + std::string(63, 'a'), why));
  EXPECT_NE(why.find("has 63"), std::string::npos) << why;
  EXPECT_FALSE(normalizeFingerprint("SHA256:" + std::string(63, 'a') + "g", why));
  EXPECT_EQ(why, "'g' is not a hex digit");
}

}  // namespace
}  // namespace bb
