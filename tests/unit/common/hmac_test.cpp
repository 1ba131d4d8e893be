#include "common/hmac.hpp"

#include <gtest/gtest.h>

namespace bb {
namespace {

// GitHub's documented test values for X-Hub-Signature-256 ("Validating
// webhook deliveries"): this secret and payload give this digest.
TEST(Hmac, GitHubsDocumentedWebhookVector) {
  EXPECT_EQ(hexEncode(hmacSha256("It's a Secret to Everybody", "Hello, World!")),
            "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17");
}

// RFC 4231 test case 2.
TEST(Hmac, Rfc4231Case2) {
  EXPECT_EQ(hexEncode(hmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(Hmac, ConstantTimeEqualComparesWholeValues) {
  EXPECT_TRUE(constantTimeEqual("abc", "abc"));
  EXPECT_FALSE(constantTimeEqual("abc", "abd"));
  EXPECT_FALSE(constantTimeEqual("abc", "abcd"));
  EXPECT_TRUE(constantTimeEqual("", ""));
  EXPECT_EQ(hexEncode(std::string("\x00\xff\x10", 3)), "00ff10");
}

}  // namespace
}  // namespace bb
