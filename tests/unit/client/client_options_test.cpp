#include "client/client_options.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "client/client_error.hpp"

namespace bb::client {
namespace {

TEST(ParseMasterAddress, HostAndPort) {
  const auto a = parseMasterAddress("127.0.0.1:9989");
  EXPECT_EQ(a.host, "127.0.0.1");
  EXPECT_EQ(a.port, 9989);
  EXPECT_EQ(a.toString(), "127.0.0.1:9989");
}

TEST(ParseMasterAddress, BracketedIpv6) {
  const auto a = parseMasterAddress("[::1]:1234");
  EXPECT_EQ(a.host, "::1");
  EXPECT_EQ(a.port, 1234);
}

TEST(ParseMasterAddress, RejectsBadValues) {
  EXPECT_THROW(parseMasterAddress("localhost"), UsageError);
  EXPECT_THROW(parseMasterAddress(":9989"), UsageError);
  EXPECT_THROW(parseMasterAddress("host:"), UsageError);
  EXPECT_THROW(parseMasterAddress("host:abc"), UsageError);
  EXPECT_THROW(parseMasterAddress("host:0"), UsageError);
  EXPECT_THROW(parseMasterAddress("host:65536"), UsageError);
  EXPECT_THROW(parseMasterAddress("[::1]1234"), UsageError);
  try {
    parseMasterAddress("host:99999");
    FAIL() << "expected UsageError";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("1..65535"), std::string::npos) << e.what();
  }
}

TEST(ParseAuth, SplitsAtFirstColon) {
  const auto c = parseAuth("alice:pa:ss");
  EXPECT_EQ(c.user, "alice");
  EXPECT_EQ(c.password, "pa:ss");
  EXPECT_EQ(parseAuth("bob:").password, "");
}

TEST(ParseAuth, RejectsMissingColonOrUser) {
  EXPECT_THROW(parseAuth("alice"), UsageError);
  EXPECT_THROW(parseAuth(":secret"), UsageError);
}

TEST(ParseProperty, NameAndValue) {
  EXPECT_EQ(parseProperty("owner:alice"), (std::pair<std::string, std::string>{"owner", "alice"}));
  EXPECT_EQ(parseProperty("url:http://x:80/").second, "http://x:80/");
  EXPECT_EQ(parseProperty("empty:").second, "");
  EXPECT_THROW(parseProperty("novalue"), UsageError);
  EXPECT_THROW(parseProperty(":v"), UsageError);
}

TEST(ParseProperties, BuildsObjectLastWins) {
  const Json p = parseProperties({"a:1", "b:two", "a:3"});
  EXPECT_EQ(p, (Json{{"a", "3"}, {"b", "two"}}));
  EXPECT_TRUE(parseProperties({}).is_object());
  EXPECT_TRUE(parseProperties({}).empty());
}

TEST(OptionsFile, KeyValueCommentsQuotes) {
  const auto m = parseOptionsFile(
      "# my settings\n"
      "\n"
      "master = 127.0.0.1:9989\n"
      "  auth='alice:secret'  \n"
      "who = \"Alice A\"\n",
      "opts");
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m.at("master"), "127.0.0.1:9989");
  EXPECT_EQ(m.at("auth"), "alice:secret");
  EXPECT_EQ(m.at("who"), "Alice A");
}

TEST(OptionsFile, MalformedLineNamesSourceAndLine) {
  try {
    parseOptionsFile("master = h:1\njunk line\n", "/home/x/.buildbot/options");
    FAIL() << "expected UsageError";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("/home/x/.buildbot/options:2:"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(parseOptionsFile(" = value\n", "f"), UsageError);
}

TEST(OptionsFile, MissingFileIsEmptyExistingFileIsRead) {
  char dir[] = "/tmp/bb-client-opts-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string path = std::string(dir) + "/options";
  EXPECT_TRUE(loadOptionsFile(path).empty());
  {
    std::ofstream f(path);
    f << "master = example:1\n";
  }
  EXPECT_EQ(loadOptionsFile(path).at("master"), "example:1");
  std::remove(path.c_str());
  rmdir(dir);
}

TEST(OptionsFile, DefaultPathUsesHome) {
  auto env = [](const char* n) -> std::optional<std::string> {
    if (std::string(n) == "HOME") return "/home/alice";
    return std::nullopt;
  };
  EXPECT_EQ(defaultOptionsPath(env), "/home/alice/.buildbot/options");
  EXPECT_EQ(defaultOptionsPath([](const char*) { return std::optional<std::string>(); }), "");
}

TEST(ResolveSetting, FlagBeatsEnvBeatsFile) {
  const std::map<std::string, std::string> file{{"master", "file:1"}};
  auto r = resolveSetting(std::string("flag:1"), std::string("env:1"), file, "master");
  EXPECT_EQ(*r.value, "flag:1");
  EXPECT_EQ(r.source, SettingSource::Flag);
  r = resolveSetting(std::nullopt, std::string("env:1"), file, "master");
  EXPECT_EQ(*r.value, "env:1");
  EXPECT_EQ(r.source, SettingSource::Environment);
  r = resolveSetting(std::nullopt, std::nullopt, file, "master");
  EXPECT_EQ(*r.value, "file:1");
  EXPECT_EQ(r.source, SettingSource::OptionsFile);
  r = resolveSetting(std::nullopt, std::string(""), file, "master");
  EXPECT_EQ(r.source, SettingSource::OptionsFile) << "an empty variable counts as unset";
  r = resolveSetting(std::nullopt, std::nullopt, {}, "master");
  EXPECT_FALSE(r.value.has_value());
  EXPECT_EQ(r.source, SettingSource::None);
}

}  // namespace
}  // namespace bb::client
