#include "common/scram.hpp"

#include <gtest/gtest.h>

#include "common/base64.hpp"

namespace bb {
namespace {

// RFC 7677 section 3.
constexpr const char* kUser = "user";
constexpr const char* kPassword = "pencil";
constexpr const char* kClientNonce = "rOprNGfwEbeRWgbNEkqO";
constexpr const char* kServerSuffix = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
constexpr const char* kSaltB64 = "W22ZaJ0SNY7soEsUEjb6gQ==";
constexpr const char* kServerFirst =
    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
constexpr const char* kClientFinal =
    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
    "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
constexpr const char* kServerFinal = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

std::string rfcVerifier() {
  return formatScramVerifier(deriveScramVerifier(kPassword, *base64Decode(kSaltB64), 4096));
}

ScramServer::Lookup lookupOnly(const std::string& user, const std::string& verifier) {
  return [user, verifier](const std::string& u) -> std::optional<std::string> {
    if (u == user) return verifier;
    return std::nullopt;
  };
}

TEST(Base64, RoundTripsAndRejectsNonCanonical) {
  for (std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
    EXPECT_EQ(*base64Decode(base64Encode(s)), s) << s;
  }
  EXPECT_EQ(base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64Encode("fo"), "Zm8=");
  std::string allBytes;
  for (int i = 0; i < 256; ++i) allBytes += static_cast<char>(i);
  EXPECT_EQ(*base64Decode(base64Encode(allBytes)), allBytes);
  EXPECT_FALSE(base64Decode("Zm8"));     // not a multiple of 4
  EXPECT_FALSE(base64Decode("Zm=8"));    // padding in the middle
  EXPECT_FALSE(base64Decode("Zm9="));    // nonzero unused bits
  EXPECT_FALSE(base64Decode("Zm8=Zm8="));  // padding before the end
  EXPECT_FALSE(base64Decode("Zm9v\nYmFy"));  // whitespace (OpenSSL alone would skip it)
  EXPECT_FALSE(base64Decode(" Zm9vYmF"));  // leading space
  EXPECT_FALSE(base64Decode("Zm9v!mFy"));  // outside the alphabet
  EXPECT_FALSE(base64Decode("===="));
  EXPECT_EQ(base64Decode(""), std::string());
  EXPECT_FALSE(base64Decode("Zm,8"));
}

TEST(Scram, Rfc7677ClientSide) {
  ScramClient client(kUser, kPassword);
  client.setNonceForTesting(kClientNonce);
  EXPECT_EQ(client.clientFirst(), "n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
  EXPECT_EQ(client.clientFinal(kServerFirst), kClientFinal);
  EXPECT_TRUE(client.verifyServerFinal(kServerFinal));
}

TEST(Scram, Rfc7677ServerSide) {
  ScramServer server(lookupOnly(kUser, rfcVerifier()));
  server.setNonceSuffixForTesting(kServerSuffix);
  EXPECT_EQ(server.serverFirst("n,,n=user,r=rOprNGfwEbeRWgbNEkqO"), kServerFirst);
  EXPECT_EQ(server.user(), "user");
  const auto final = server.serverFinal(kClientFinal);
  ASSERT_TRUE(final);
  EXPECT_EQ(*final, kServerFinal);
}

TEST(Scram, FullExchangeWithRandomNonces) {
  ScramServer server(lookupOnly("linux-1", makeScramVerifier("s3cret")));
  ScramClient client("linux-1", "s3cret");
  const std::string first = client.clientFirst();
  const std::string final = client.clientFinal(server.serverFirst(first));
  const auto sig = server.serverFinal(final);
  ASSERT_TRUE(sig);
  EXPECT_TRUE(client.verifyServerFinal(*sig));
}

TEST(Scram, WrongPasswordFails) {
  ScramServer server(lookupOnly("linux-1", makeScramVerifier("s3cret")));
  ScramClient client("linux-1", "guess");
  const std::string final = client.clientFinal(server.serverFirst(client.clientFirst()));
  EXPECT_FALSE(server.serverFinal(final));
}

TEST(Scram, ClientRejectsSignatureOfServerWithAnotherVerifier) {
  // A server that knows a different password cannot produce our signature.
  ScramServer server(lookupOnly("linux-1", makeScramVerifier("other")));
  ScramClient client("linux-1", "s3cret");
  client.clientFinal(server.serverFirst(client.clientFirst()));
  EXPECT_FALSE(client.verifyServerFinal(kServerFinal));
  EXPECT_FALSE(client.verifyServerFinal("e=invalid-proof"));
  EXPECT_FALSE(client.verifyServerFinal("v=not base64"));
}

TEST(Scram, ReplayedClientFinalFailsAgainstNewServer) {
  const std::string verifier = makeScramVerifier("s3cret");
  ScramClient client("linux-1", "s3cret");
  const std::string first = client.clientFirst();
  ScramServer server1(lookupOnly("linux-1", verifier));
  const std::string final = client.clientFinal(server1.serverFirst(first));
  ASSERT_TRUE(server1.serverFinal(final));

  // An eavesdropper replays the same client-first and client-final.
  ScramServer server2(lookupOnly("linux-1", verifier));
  server2.serverFirst(first);
  EXPECT_FALSE(server2.serverFinal(final));
}

TEST(Scram, UnknownUserGetsStableFakeSaltAndFails) {
  auto lookup = lookupOnly("linux-1", makeScramVerifier("s3cret"));
  ScramServer a(lookup), b(lookup), c(lookup);
  a.setNonceSuffixForTesting("X");
  b.setNonceSuffixForTesting("X");
  c.setNonceSuffixForTesting("X");
  const std::string fa = a.serverFirst("n,,n=mallory,r=abc");
  const std::string fb = b.serverFirst("n,,n=mallory,r=abc");
  const std::string fc = c.serverFirst("n,,n=eve,r=abc");
  EXPECT_EQ(fa, fb);  // same salt every time: nothing to tell it from a real user
  EXPECT_NE(fa, fc);
  EXPECT_NE(fa.find(",i=4096"), std::string::npos);

  ScramClient client("mallory", "anything");
  client.setNonceForTesting("abc");
  client.clientFirst();
  EXPECT_FALSE(a.serverFinal(client.clientFinal(fa)));
}

TEST(Scram, UnparsableStoredVerifierFailsLikeUnknownUser) {
  ScramServer server(lookupOnly("linux-1", "plaintext-password"));
  ScramClient client("linux-1", "plaintext-password");
  const std::string final = client.clientFinal(server.serverFirst(client.clientFirst()));
  EXPECT_FALSE(server.serverFinal(final));
}

TEST(Scram, UserNamesAreEscaped) {
  EXPECT_EQ(scramEscapeName("a,b=c"), "a=2Cb=3Dc");
  EXPECT_EQ(scramUnescapeName("a=2Cb=3Dc"), "a,b=c");
  EXPECT_THROW(scramUnescapeName("a=41"), ScramError);
  EXPECT_THROW(scramUnescapeName("a="), ScramError);

  ScramServer server(lookupOnly("we,ird=name", makeScramVerifier("pw")));
  ScramClient client("we,ird=name", "pw");
  const std::string first = client.clientFirst();
  EXPECT_EQ(first.rfind("n,,n=we=2Cird=3Dname,r=", 0), 0u);
  const std::string final = client.clientFinal(server.serverFirst(first));
  EXPECT_EQ(server.user(), "we,ird=name");
  const auto sig = server.serverFinal(final);
  ASSERT_TRUE(sig);
  EXPECT_TRUE(client.verifyServerFinal(*sig));
}

TEST(Scram, VerifierRoundTrip) {
  const std::string text = makeScramVerifier("pw", 5000);
  EXPECT_EQ(text.rfind("scram-sha-256$5000:", 0), 0u);
  const auto v = parseScramVerifier(text);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->iterations, 5000);
  EXPECT_EQ(v->salt.size(), kScramSaltBytes);
  EXPECT_EQ(v->storedKey.size(), 32u);
  EXPECT_EQ(v->serverKey.size(), 32u);
  EXPECT_EQ(formatScramVerifier(*v), text);
  EXPECT_NE(makeScramVerifier("pw"), makeScramVerifier("pw"));  // fresh salts
  // Same password and salt give the same keys.
  const auto again = deriveScramVerifier("pw", v->salt, 5000);
  EXPECT_EQ(again.storedKey, v->storedKey);
  EXPECT_EQ(again.serverKey, v->serverKey);
}

TEST(Scram, MalformedVerifiersAreRejected) {
  const std::string good = makeScramVerifier("pw");
  EXPECT_TRUE(parseScramVerifier(good));
  EXPECT_FALSE(parseScramVerifier(""));
  EXPECT_FALSE(parseScramVerifier("pw"));
  EXPECT_FALSE(parseScramVerifier("md5$4096:abc$def:ghi"));
  EXPECT_FALSE(parseScramVerifier("scram-sha-256$4096:W22ZaJ0SNY7soEsUEjb6gQ=="));
  EXPECT_FALSE(parseScramVerifier("scram-sha-256$10:W22ZaJ0SNY7soEsUEjb6gQ==$AAAA:AAAA"));
  std::string shortKeys = good.substr(0, good.find('$', 14)) + "$AAAA:AAAA";
  EXPECT_FALSE(parseScramVerifier(shortKeys));
  EXPECT_FALSE(parseScramVerifier(good + "$extra"));
  EXPECT_FALSE(parseScramVerifier("scram-sha-256$abc:" + good.substr(good.find(':') + 1)));
  EXPECT_THROW(makeScramVerifier("pw", 10), ScramError);
}

TEST(Scram, MalformedClientFirstThrows) {
  auto lookup = lookupOnly("u", makeScramVerifier("pw"));
  for (const std::string bad :
       {"", "garbage", "n,,r=abc", "n,,n=u", "x,,n=u,r=abc", "p=tls-unique,,n=u,r=abc",
        "n,a=admin,n=u,r=abc", "n,,m=ext,n=u,r=abc", "n,,n=u=ZZ,r=abc", "n,,n=u,r=",
        "n,,n=u,r=a\x01" "b"}) {
    ScramServer server(lookup);
    EXPECT_THROW(server.serverFirst(bad), ScramError) << bad;
  }
  ScramServer server(lookup);
  server.serverFirst("n,,n=u,r=abc");
  EXPECT_THROW(server.serverFirst("n,,n=u,r=abc"), ScramError);  // twice
}

TEST(Scram, MalformedClientFinalThrows) {
  auto lookup = lookupOnly("u", makeScramVerifier("pw"));
  for (const std::string bad : {"", "c=biws,r=abc", "r=abc,c=biws,p=AAAA", "c=biws,p=AAAA",
                                "c=biws,r=abcX,p=!!!!"}) {
    ScramServer server(lookup);
    server.setNonceSuffixForTesting("X");
    server.serverFirst("n,,n=u,r=abc");
    EXPECT_THROW(server.serverFinal(bad), ScramError) << bad;
  }
  ScramServer early(lookup);
  EXPECT_THROW(early.serverFinal("c=biws,r=abc,p=AAAA"), ScramError);
}

TEST(Scram, WrongChannelBindingFails) {
  ScramServer server(lookupOnly("u", makeScramVerifier("pw")));
  ScramClient client("u", "pw");
  const std::string final = client.clientFinal(server.serverFirst(client.clientFirst()));
  std::string tampered = final;
  tampered.replace(0, 6, "c=eSws");  // "y,," instead of the "n,," the client sent
  EXPECT_FALSE(server.serverFinal(tampered));
}

// ---- channel binding tls-server-end-point ----

TEST(ScramChannelBinding, BoundExchangeSendsTheHeaderAndTheBindingData) {
  const std::string cb(32, '\x5a');  // stands for the hash of the master's certificate
  ScramServer server(lookupOnly("u", makeScramVerifier("pw")), cb);
  ScramClient client("u", "pw", cb);
  const std::string first = client.clientFirst();
  EXPECT_EQ(first.rfind("p=tls-server-end-point,,n=u,r=", 0), 0u) << first;
  const std::string final = client.clientFinal(server.serverFirst(first));
  EXPECT_EQ(final.rfind("c=" + base64Encode("p=tls-server-end-point,," + cb) + ",r=", 0), 0u)
      << final;
  const auto sig = server.serverFinal(final);
  ASSERT_TRUE(sig);
  EXPECT_TRUE(client.verifyServerFinal(*sig));
}

TEST(ScramChannelBinding, ClientThatSawAnotherCertificateFails) {
  // A middle that terminates TLS with its own certificate: the client binds
  // to that one, the master to its own; the password is right.
  ScramServer server(lookupOnly("u", makeScramVerifier("pw")), std::string(32, 'M'));
  ScramClient client("u", "pw", std::string(32, 'X'));
  const std::string final = client.clientFinal(server.serverFirst(client.clientFirst()));
  EXPECT_FALSE(server.serverFinal(final));
}

TEST(ScramChannelBinding, GsHeaderMustFitTheConnection) {
  auto lookup = lookupOnly("u", makeScramVerifier("pw"));
  // Over TLS: "n" and "y" are refused (a downgrade), another type too.
  for (const std::string bad : {"n,,n=u,r=abc", "y,,n=u,r=abc", "p=tls-unique,,n=u,r=abc"}) {
    ScramServer server(lookup, "binding");
    EXPECT_THROW(server.serverFirst(bad), ScramError) << bad;
  }
  ScramServer tls(lookup, "binding");
  EXPECT_NO_THROW(tls.serverFirst("p=tls-server-end-point,,n=u,r=abc"));
  // Over plain TCP: binding cannot be asked for; "n" and "y" are fine.
  ScramServer plain(lookup);
  try {
    plain.serverFirst("p=tls-server-end-point,,n=u,r=abc");
    FAIL() << "binding accepted over plain TCP";
  } catch (const ScramError& e) {
    EXPECT_NE(std::string(e.what()).find("needs TLS"), std::string::npos) << e.what();
  }
  ScramServer plainY(lookup);
  EXPECT_NO_THROW(plainY.serverFirst("y,,n=u,r=abc"));
}

TEST(Scram, MalformedServerFirstThrows) {
  for (const std::string bad :
       {"", "garbage", "r=abcX,s=W22ZaJ0SNY7soEsUEjb6gQ==",         // no iterations
        "r=zzzX,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",                 // not our nonce
        "r=abc,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",                  // nothing added
        "r=abcX,s=,i=4096", "r=abcX,s=***,i=4096",                  // bad salt
        "r=abcX,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=999",                  // too few
        "r=abcX,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=99999999999",          // too many
        "r=abcX,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4k",
        "m=ext,r=abcX,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
        "s=W22ZaJ0SNY7soEsUEjb6gQ==,r=abcX,i=4096"}) {
    ScramClient client("u", "pw");
    client.setNonceForTesting("abc");
    client.clientFirst();
    EXPECT_THROW(client.clientFinal(bad), ScramError) << bad;
  }
  ScramClient early("u", "pw");
  EXPECT_THROW(early.clientFinal(kServerFirst), ScramError);
  EXPECT_FALSE(early.verifyServerFinal(kServerFinal));
}

TEST(Scram, ClientAcceptsIterationsAtTheMinimum) {
  ScramClient client("u", "pw");
  client.setNonceForTesting("abc");
  client.clientFirst();
  EXPECT_NO_THROW(client.clientFinal("r=abcX,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=1000"));
}

}  // namespace
}  // namespace bb
