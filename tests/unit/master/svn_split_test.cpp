// The Subversion path split: standard layout, custom patterns, paths that
// match nothing, pattern checks; and the svn log XML the poller reads.
#include <gtest/gtest.h>

#include "master/changes/svn_poller.hpp"
#include "master/changes/svn_split.hpp"

namespace bb {
namespace {

std::pair<std::string, std::string> split(const std::vector<std::string>& pats,
                                          const std::string& path) {
  auto s = splitSvnPath(pats, path);
  if (!s) return {"<none>", ""};
  return {s->branch, s->file};
}

using P = std::pair<std::string, std::string>;

TEST(SvnSplit, StandardLayout) {
  const auto& std = standardSvnLayout();
  EXPECT_EQ(split(std, "/trunk/src/a.c"), (P{"trunk", "src/a.c"}));
  EXPECT_EQ(split(std, "trunk/a.c"), (P{"trunk", "a.c"}));
  EXPECT_EQ(split(std, "/branches/1.x/src/a.c"), (P{"branches/1.x", "src/a.c"}));
  EXPECT_EQ(split(std, "/tags/v1.0/README"), (P{"tags/v1.0", "README"}));
  EXPECT_EQ(split(std, "/branches/new"), (P{"branches/new", ""})) << "creating a branch";
  EXPECT_EQ(split(std, "/branches/new/"), (P{"branches/new", ""}));
  EXPECT_EQ(split(std, "/trunk/src/"), (P{"trunk", "src/"})) << "a directory";
  EXPECT_EQ(split(std, "/branches"), (P{"<none>", ""}));
  EXPECT_EQ(split(std, "/README"), (P{"<none>", ""}));
  EXPECT_EQ(split(std, "/trunkish/a.c"), (P{"<none>", ""})) << "whole segments only";
}

TEST(SvnSplit, CustomPatterns) {
  const std::vector<std::string> multi{"*/trunk", "*/branches/*"};
  EXPECT_EQ(split(multi, "/app/trunk/a.c"), (P{"app/trunk", "a.c"}));
  EXPECT_EQ(split(multi, "/lib/branches/fix/x/y.c"), (P{"lib/branches/fix", "x/y.c"}));
  EXPECT_EQ(split(multi, "/app/tags/v1/a.c"), (P{"<none>", ""}));
  // First match wins.
  const std::vector<std::string> ordered{"releases/*/*", "releases/*"};
  EXPECT_EQ(split(ordered, "/releases/2024/q1/notes"), (P{"releases/2024/q1", "notes"}));
  const std::vector<std::string> dev{"dev"};
  EXPECT_EQ(split(dev, "/dev/a"), (P{"dev", "a"}));
}

TEST(SvnSplit, BadPatternsAreExplained) {
  EXPECT_EQ(checkSvnPattern("branches/*"), "");
  EXPECT_EQ(checkSvnPattern("*/trunk"), "");
  EXPECT_NE(checkSvnPattern(""), "");
  EXPECT_NE(checkSvnPattern("/trunk").find("must not start or end with '/'"), std::string::npos);
  EXPECT_NE(checkSvnPattern("a//b").find("empty segment"), std::string::npos);
  EXPECT_NE(checkSvnPattern("branches/rel-*").find("whole segment"), std::string::npos);
  EXPECT_NE(checkSvnPattern("../x"), "");
}

TEST(SvnSplit, LogXmlIsParsed) {
  const std::string xml = R"(<?xml version="1.0" encoding="UTF-8"?>
<log>
<logentry revision="4">
<author>bob</author>
<date>2026-12-01T18:35:28.038281Z</date>
<paths>
<path action="M" prop-mods="false" text-mods="true" kind="file">/trunk/a &amp; b.c</path>
<path copyfrom-path="/trunk" copyfrom-rev="2" action="A" kind="dir">/branches/b1</path>
</paths>
<msg>two
lines
</msg>
</logentry>
<logentry revision="5">
<date>2026-12-01T18:35:29.000000Z</date>
<paths><path action="D" kind="file">/tags/x</path></paths>
</logentry>
</log>
)";
  auto entries = SvnPoller::parseLog(xml);
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].revision, 4);
  EXPECT_EQ(entries[0].author, "bob");
  EXPECT_EQ(entries[0].message, "two\nlines");
  EXPECT_EQ(entries[0].when, 1796150128);
  EXPECT_EQ(entries[0].paths, (std::vector<std::string>{"/trunk/a & b.c", "/branches/b1/"}));
  EXPECT_EQ(entries[1].author, "") << "an anonymous commit";
  EXPECT_THROW(SvnPoller::parseLog("<log><logentry"), std::exception);
}

// A log entry whose changed paths svn does not list (paths the server's
// authz hides from the poller's user, or revision 0) and a document with
// no <log> at all: nothing to read, and nothing read from a destroyed
// default (g++'s -Wdangling-pointer found get_child's default argument
// outliving its full expression; ASan sees the use).
TEST(SvnSplit, AnEntryWithoutPathsAndADocumentWithoutALogAreRead) {
  const std::string xml = R"(<?xml version="1.0" encoding="UTF-8"?>
<log>
<logentry revision="7">
<author>carol</author>
<date>2026-12-01T18:35:28.000000Z</date>
<msg>hidden paths</msg>
</logentry>
</log>
)";
  auto entries = SvnPoller::parseLog(xml);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].revision, 7);
  EXPECT_EQ(entries[0].author, "carol");
  EXPECT_TRUE(entries[0].paths.empty());
  EXPECT_TRUE(SvnPoller::parseLog(R"(<?xml version="1.0"?><other/>)").empty());
}

}  // namespace
}  // namespace bb
