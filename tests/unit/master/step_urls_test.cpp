// A step's named URLs from its command's `##buildbot-url NAME URL` lines.
#include <gtest/gtest.h>

#include "config/step_url.hpp"
#include "master/process/step_urls.hpp"

namespace bb {
namespace {

struct Scan {
  StepUrls urls;
  std::vector<std::string> refused;
  bool feed(int stream, std::string_view data) {
    return urls.scan(stream, data, [&](const std::string& why) { refused.push_back(why); });
  }
};

Json url(const std::string& name, const std::string& u) { return Json{{"name", name}, {"url", u}}; }

TEST(StepUrls, MarkerLinesOnStdoutAndStderrAddUrlsInOrder) {
  Scan s;
  EXPECT_TRUE(s.feed(0, "building\n##buildbot-url Test report https://ci.example.org/r/1\nmore\n"));
  EXPECT_TRUE(s.feed(1, "##buildbot-url coverage /cov/index.html\r\n"));
  EXPECT_EQ(s.urls.toJson(), Json::array({url("Test report", "https://ci.example.org/r/1"),
                                          url("coverage", "/cov/index.html")}));
  EXPECT_TRUE(s.refused.empty());
}

TEST(StepUrls, HeaderLinesAndMarkersInsideALineAreNotTaken) {
  Scan s;
  EXPECT_FALSE(s.feed(2, "##buildbot-url a https://x/\n"));            // the slave's own lines
  EXPECT_FALSE(s.feed(0, "echo ##buildbot-url a https://x/\n"));       // not at a line start
  EXPECT_FALSE(s.feed(0, " ##buildbot-url a https://x/\n"));
  EXPECT_TRUE(s.urls.empty());
}

TEST(StepUrls, ALineSplitAcrossChunksIsTakenWhole) {
  Scan s;
  EXPECT_FALSE(s.feed(0, "x\n##build"));
  EXPECT_FALSE(s.feed(1, "noise on stderr\n"));  // another stream does not disturb it
  EXPECT_FALSE(s.feed(0, "bot-url split name https://ex"));
  EXPECT_TRUE(s.feed(0, "ample.org/a\nnext"));
  EXPECT_EQ(s.urls.toJson(), Json::array({url("split name", "https://example.org/a")}));
}

// The scan jumps from one line that starts with '#' to the next: markers
// among long output, after lines with '#' elsewhere or starting with '#',
// at a chunk's first byte after a chunk that ended a line, and not after
// one that ended mid-line.
TEST(StepUrls, MarkersAmongOtherOutputAndAtChunkEdgesAreFoundOnlyAtLineStarts) {
  Scan s;
  std::string noise;
  for (int i = 0; i < 2000; ++i) noise += "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo" + std::to_string(i) + "\n";
  EXPECT_TRUE(s.feed(0, noise + "#include <x>\nx # y\n##buildbot-url a https://a/\n" + noise));
  EXPECT_FALSE(s.feed(0, "text without a line end"));
  EXPECT_FALSE(s.feed(0, "##buildbot-url mid https://mid/\n"));  // the line began in the chunk before
  EXPECT_FALSE(s.feed(0, noise));                                   // ends with a line end
  EXPECT_TRUE(s.feed(0, "##buildbot-url b https://b/\n#"));
  EXPECT_TRUE(s.feed(0, "#buildbot-url c https://c/\n"));         // "#" + "#buildbot-url": one line
  EXPECT_FALSE(s.feed(0, "\n"));
  EXPECT_TRUE(s.feed(0, "##buildbot-url d https://d/\n"));
  EXPECT_EQ(s.urls.toJson(), Json::array({url("a", "https://a/"), url("b", "https://b/"), url("c", "https://c/"),
                                          url("d", "https://d/")}));
  EXPECT_TRUE(s.refused.empty());
}

TEST(StepUrls, TheSameNameReplacesItsUrl) {
  Scan s;
  s.feed(0, "##buildbot-url r https://a/\n##buildbot-url q /q\n##buildbot-url r https://b/\n");
  EXPECT_EQ(s.urls.toJson(), Json::array({url("r", "https://b/"), url("q", "/q")}));
}

TEST(StepUrls, BadMarkerLinesAreRefusedWithTheReason) {
  Scan s;
  EXPECT_FALSE(s.feed(0, "##buildbot-url onlyaname\n"));
  ASSERT_EQ(s.refused.size(), 1u);
  EXPECT_NE(s.refused[0].find("needs a name and a URL"), std::string::npos) << s.refused[0];
  EXPECT_FALSE(s.feed(0, "##buildbot-url " + std::string(kMaxStepUrlNameBytes + 1, 'n') + " https://x/\n"));
  EXPECT_NE(s.refused.back().find("at most 100"), std::string::npos) << s.refused.back();
  EXPECT_FALSE(s.feed(0, "##buildbot-url n \xff\xfe\n"));
  EXPECT_NE(s.refused.back().find("not UTF-8"), std::string::npos) << s.refused.back();
  // A line longer than any marker line is dropped as it streams.
  EXPECT_FALSE(s.feed(0, "##buildbot-url n https://x/" + std::string(3000, 'a')));
  EXPECT_FALSE(s.feed(0, std::string(100000, 'a') + "\n"));
  EXPECT_NE(s.refused.back().find("longer than"), std::string::npos) << s.refused.back();
  EXPECT_EQ(s.refused.size(), 4u);
  EXPECT_TRUE(s.urls.empty());
}

TEST(StepUrls, AtMostTwentyUrlsAStep) {
  Scan s;
  std::string out;
  for (std::size_t i = 0; i < kMaxStepUrls + 3; ++i) out += "##buildbot-url u" + std::to_string(i) + " /" + std::to_string(i) + "\n";
  EXPECT_TRUE(s.feed(0, out));
  EXPECT_EQ(s.urls.toJson().size(), kMaxStepUrls);
  EXPECT_EQ(s.refused.size(), 3u);
  EXPECT_NE(s.refused[0].find("20 URLs already"), std::string::npos) << s.refused[0];
  // Replacing one still works at the cap.
  EXPECT_TRUE(s.feed(0, "##buildbot-url u0 /new\n"));
  EXPECT_EQ(s.urls.toJson()[0]["url"], "/new");
}

TEST(StepUrls, ConfigUrlsAreCheckedTheSameWay) {
  StepUrls u;
  EXPECT_TRUE(u.add("report", "https://ci/r 1").has_value());
  EXPECT_FALSE(u.add("report", "https://ci/r").has_value());
  EXPECT_TRUE(u.add("", "https://ci/r").has_value());
}

}  // namespace
}  // namespace bb
