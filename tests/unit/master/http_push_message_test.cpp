// The HTTP push's body and headers: the HMAC-SHA256 signature (RFC 4231
// test vector), the body's shape, and the headers in order.
#include <gtest/gtest.h>

#include "master/reporters/http_push_message.hpp"

namespace bb {
namespace {

TEST(HttpPushMessage, HmacSha256MatchesRfc4231) {
  // RFC 4231, test case 2.
  EXPECT_EQ(hmacSha256Hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(HttpPushMessage, BodyAndHeaders) {
  Event e;
  e.seq = 42;
  e.type = EventType::BuildFinished;
  e.builder = "b1";
  e.buildId = 7;
  e.data = Json{{"result", "failure"}};
  const std::string body = pushBody(e, "m1", "http://ci/");
  const Json j = Json::parse(body);
  EXPECT_EQ(j["master"], "m1");
  EXPECT_EQ(j["master_url"], "http://ci/");
  EXPECT_EQ(j["event"]["type"], "build.finished");
  EXPECT_EQ(j["event"]["builder"], "b1");
  EXPECT_EQ(j["event"]["build_id"], 7);
  EXPECT_EQ(j["event"]["data"]["result"], "failure");
  const auto p = pushRequest("http://h/hook", "build.finished", "m1-42", body, "k", {{"X-Extra", "1"}});
  ASSERT_EQ(p.headers.size(), 6u);
  EXPECT_EQ(p.headers[2], (std::pair<std::string, std::string>{"X-Buildbot-Event", "build.finished"}));
  EXPECT_EQ(p.headers[3].second, "m1-42");
  EXPECT_EQ(p.headers[4], (std::pair<std::string, std::string>{"X-Buildbot-Signature",
                                                                 "sha256=" + hmacSha256Hex("k", body)}));
  EXPECT_EQ(p.headers[5].first, "X-Extra");
  EXPECT_EQ(p.body, body);
  EXPECT_EQ(pushRequest("u", "t", "d", body, "", {}).headers.size(), 4u);  // no key: no signature
}

}  // namespace
}  // namespace bb
