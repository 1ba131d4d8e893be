// The master address both command lines take (buildslave create-slave and
// buildbot --master).
#include "common/master_address.hpp"

#include <gtest/gtest.h>

namespace bb {
namespace {

std::string whyNot(const std::string& text) {
  std::string error;
  EXPECT_FALSE(parseMasterAddress(text, error)) << text;
  return error;
}

TEST(MasterAddress, ParsesHostPortAndBracketedIpv6) {
  std::string error;
  EXPECT_EQ(parseMasterAddress("ci.example.org:9989", error), (MasterAddress{"ci.example.org", 9989}));
  EXPECT_EQ(parseMasterAddress("[::1]:9989", error), (MasterAddress{"::1", 9989}));
  EXPECT_EQ((MasterAddress{"::1", 9989}).toString(), "[::1]:9989");
  EXPECT_EQ((MasterAddress{"h", 1}).toString(), "h:1");
}

TEST(MasterAddress, SaysWhatIsWrong) {
  EXPECT_EQ(whyNot("host"), "expected HOST:PORT");
  EXPECT_EQ(whyNot("host:0"), "the port must be in 1..65535");
  EXPECT_EQ(whyNot("host:65536"), "the port must be in 1..65535");
  EXPECT_EQ(whyNot(":9989"), "the host is empty");
  EXPECT_EQ(whyNot("::1:9989"), "an IPv6 address goes in brackets: [ADDRESS]:PORT");
  EXPECT_EQ(whyNot("host:99x"), "the port must be a number");
  EXPECT_EQ(whyNot("host:"), "the port must be a number");
  EXPECT_EQ(whyNot("[::1]1234"), "expected [IPV6]:PORT");
}

}  // namespace
}  // namespace bb
