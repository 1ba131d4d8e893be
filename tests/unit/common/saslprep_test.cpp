// SASLprep (RFC 4013) with the RFC's own examples, and SCRAM using it: the
// same password written two ways derives the same verifier.
#include "common/saslprep.hpp"

#include <gtest/gtest.h>

#include "common/scram.hpp"

namespace bb {
namespace {

std::optional<std::string> prep(const std::string& s, SaslPrepMode mode = SaslPrepMode::Query) {
  std::string why;
  auto r = saslPrep(s, mode, why);
  if (!r) {
    EXPECT_FALSE(why.empty());
  }
  return r;
}

TEST(SaslPrep, Rfc4013Examples) {
  EXPECT_EQ(prep("I\u00ADX"), "IX");        // soft hyphen mapped to nothing
  EXPECT_EQ(prep("user"), "user");          // no transformation
  EXPECT_EQ(prep("USER"), "USER");          // case preserved
  EXPECT_EQ(prep("\u00AA"), "a");           // NFKC: feminine ordinal
  EXPECT_EQ(prep("\u2168"), "IX");          // NFKC: Roman numeral nine
  EXPECT_EQ(prep("\u0007"), std::nullopt);  // prohibited: control character
  EXPECT_EQ(prep("\u0627\u0031"), std::nullopt);  // bidi: RandALCat not at both ends
}

TEST(SaslPrep, SpacesDecompositionAndRefusals) {
  EXPECT_EQ(prep("a\u00A0b"), "a b");  // non-ASCII space -> U+0020
  EXPECT_EQ(prep("pa\u0308sswort"), "p\u00E4sswort");  // NFKC composes a + U+0308
  std::string why;
  EXPECT_FALSE(saslPrep("\xff\xfe", SaslPrepMode::Query, why));  // not UTF-8
  EXPECT_FALSE(saslPrep("\u00AD", SaslPrepMode::Query, why));  // empty once mapped
  EXPECT_NE(why.find("empty"), std::string::npos) << why;
  // U+0221 is unassigned in Unicode 3.2: a query may hold it, a stored string not.
  EXPECT_TRUE(saslPrep("x\u0221", SaslPrepMode::Query, why));
  EXPECT_FALSE(saslPrep("x\u0221", SaslPrepMode::Stored, why));
}

TEST(SaslPrep, ScramHashesThePreparedPassword) {
  const std::string salt(16, 's');
  const auto a = deriveScramVerifier("I\u00ADX", salt, 4096);
  const auto b = deriveScramVerifier("\u2168", salt, 4096);
  const auto c = deriveScramVerifier("IX", salt, 4096);
  EXPECT_EQ(a.storedKey, c.storedKey);
  EXPECT_EQ(b.storedKey, c.storedKey);
  EXPECT_NE(deriveScramVerifier("IY", salt, 4096).storedKey, c.storedKey);

  // A client typing the decomposed form logs in against a verifier made
  // from the composed one.
  const std::string verifier = makeScramVerifier("p\u00E4sswort");
  ScramServer server([&](const std::string&) -> std::optional<std::string> { return verifier; });
  ScramClient client("u", "pa\u0308sswort");
  const auto sig = server.serverFinal(client.clientFinal(server.serverFirst(client.clientFirst())));
  ASSERT_TRUE(sig);
  EXPECT_TRUE(client.verifyServerFinal(*sig));
}

TEST(SaslPrep, APasswordSaslPrepRefusesIsHashedAsItsBytes) {
  // So a verifier made before SASLprep existed still verifies.
  EXPECT_EQ(scramNormalizePassword("bell\u0007"), "bell\u0007");
  EXPECT_EQ(scramNormalizePassword("I\u00ADX"), "IX");
}

}  // namespace
}  // namespace bb
