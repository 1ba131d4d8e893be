// The try job encodings: ours (docs/try.md) and Buildbot's netstrings,
// versions 1 to 6, and the paths a patch names.
#include <gtest/gtest.h>

#include "common/buildbot_try_job.hpp"
#include "common/patch_paths.hpp"
#include "common/try_job.hpp"

namespace bb {
namespace {

TryJob tryJobSample() {
  TryJob j;
  j.jobId = "20261201-120000-42-deadbeef";
  j.branch = "main";
  j.baseRevision = "0123456789abcdef";
  j.patchLevel = 1;
  j.repository = "/srv/git/app.git";
  j.project = "app";
  j.builders = {"linux", "mac"};
  j.properties = {{"flavour", "debug"}, {"empty", ""}};
  j.who = "alice";
  j.comment = "two lines\nof comment with a \\ backslash";
  j.patch = "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n";
  return j;
}

void expectSame(const TryJob& a, const TryJob& b, bool hasAll = true) {
  EXPECT_EQ(a.jobId, b.jobId);
  EXPECT_EQ(a.branch, b.branch);
  EXPECT_EQ(a.baseRevision, b.baseRevision);
  EXPECT_EQ(a.patchLevel, b.patchLevel);
  EXPECT_EQ(a.patch, b.patch);
  EXPECT_EQ(a.builders, b.builders);
  if (hasAll) {
    EXPECT_EQ(a.repository, b.repository);
    EXPECT_EQ(a.project, b.project);
    EXPECT_EQ(a.who, b.who);
    EXPECT_EQ(a.comment, b.comment);
  }
}

TEST(TryJobText, RoundTrips) {
  TryJob j = tryJobSample();
  j.patch += std::string("\0binary\xff", 8);
  const std::string text = formatTryJob(j);
  EXPECT_EQ(text.rfind("Try-Format: 1\nJob-Id: ", 0), 0u);
  TryJob back = parseTryJob(text);
  expectSame(j, back);
  EXPECT_EQ(back.properties, j.properties);
  EXPECT_EQ(back.format, "bbcpp/1");
  EXPECT_EQ(parseAnyTryJob(text).jobId, j.jobId);
}

std::string errorOf(const std::string& text) {
  try {
    parseTryJob(text);
  } catch (const TryJobError& e) {
    return e.what();
  }
  return "(parsed)";
}

TEST(TryJobText, MalformedJobsSayWhy) {
  const std::string good = formatTryJob(tryJobSample());
  EXPECT_EQ(errorOf(""), "the try job is empty");
  EXPECT_NE(errorOf("Try-Format: 2\n\n").find("version '2' is not known"), std::string::npos);
  EXPECT_NE(errorOf("Hello: 1\n\n").find("starts with 'Try-Format: 1'"), std::string::npos);
  // Cut short: fewer patch bytes than announced.
  EXPECT_NE(errorOf(good.substr(0, good.size() - 3)).find("cut short"), std::string::npos);
  EXPECT_NE(errorOf(good + "extra").find("Patch-Length says"), std::string::npos);
  // Headers never end.
  EXPECT_NE(errorOf("Try-Format: 1\nJob-Id: x").find("without a blank line"), std::string::npos);
  EXPECT_NE(errorOf("Try-Format: 1\nJob-Id: x\nBuilder: b\n\n").find("no Patch-Length"),
            std::string::npos);
  EXPECT_NE(errorOf("Try-Format: 1\nBuilder: b\nPatch-Length: 0\n\n").find("no Job-Id"),
            std::string::npos);
  EXPECT_NE(errorOf("Try-Format: 1\nJob-Id: x\nPatch-Length: 0\n\n").find("names no builder"),
            std::string::npos);
  EXPECT_NE(errorOf("Try-Format: 1\nJob-Id: ../x\nBuilder: b\nPatch-Length: 0\n\n").find("job id"),
            std::string::npos);
  EXPECT_NE(errorOf("Try-Format: 1\nJob-Id: x\nJob-Id: y\n\n").find("line 3: header 'Job-Id' given twice"),
            std::string::npos);
  EXPECT_NE(errorOf("Try-Format: 1\nColour: red\n\n").find("unknown header 'Colour'"), std::string::npos);
  EXPECT_NE(errorOf("Try-Format: 1\nno colon here\n\n").find("line 2 is not 'Header: value'"),
            std::string::npos);
  EXPECT_NE(errorOf("Try-Format: 1\nPatch-Level: one\n\n").find("Patch-Level must be a whole number"),
            std::string::npos);
  EXPECT_NE(errorOf("Try-Format: 1\nComment: a\\q\n\n").find("unknown escape"), std::string::npos);
  EXPECT_NE(errorOf("Try-Format: 1\nProperty: novalue\n\n").find("NAME=VALUE"), std::string::npos);
}

TEST(TryJobText, FormatRefusesWhatCouldNotBeReadBack) {
  TryJob j = tryJobSample();
  j.builders.clear();
  EXPECT_THROW(formatTryJob(j), TryJobError);
  j = tryJobSample();
  j.jobId = "a/b";
  EXPECT_THROW(formatTryJob(j), TryJobError);
}

TEST(BuildbotTryJob, EveryVersionIsRead) {
  const TryJob j = tryJobSample();
  for (int v = 1; v <= 6; ++v) {
    SCOPED_TRACE("version " + std::to_string(v));
    const std::string file = formatBuildbotTryJob(j, v);
    TryJob back = parseAnyTryJob(file);
    EXPECT_EQ(back.format, "buildbot/" + std::to_string(v));
    expectSame(j, back, false);
    EXPECT_EQ(back.repository, v >= 2 ? j.repository : "");
    EXPECT_EQ(back.project, v >= 2 ? j.project : "");
    EXPECT_EQ(back.who, v >= 3 ? j.who : "");
    EXPECT_EQ(back.comment, v >= 4 ? j.comment : "");
    EXPECT_EQ(back.properties.size(), v >= 5 ? 2u : 0u);
  }
}

TEST(BuildbotTryJob, HandWrittenVersionOneAndSix) {
  // Written the way Buildbot's client writes them, by hand.
  const std::string v1 = "1:1,5:job-1,4:main,3:abc,1:0,12:--- x\n+++ x\n,5:linux,";
  TryJob a = parseBuildbotTryJob(v1);
  EXPECT_EQ(a.jobId, "job-1");
  EXPECT_EQ(a.patchLevel, 0);
  EXPECT_EQ(a.patch, "--- x\n+++ x\n");
  EXPECT_EQ(a.builders, std::vector<std::string>{"linux"});
  const std::string json =
      R"({"jobid": "j6", "branch": "", "baserev": "None", "patch_level": 1, "repository": "r",)"
      R"( "project": "p", "who": "bob", "comment": "", "builderNames": ["b1", "b2"],)"
      R"( "properties": {"n": 3}, "patch_body_base64": "AP8K"})";
  TryJob b = parseBuildbotTryJob("1:6," + std::to_string(json.size()) + ":" + json + ",");
  EXPECT_EQ(b.baseRevision, "");
  EXPECT_EQ(b.patch, std::string("\0\xff\n", 3));
  EXPECT_EQ(b.properties.at("n"), "3");
  EXPECT_EQ(b.builders.size(), 2u);
}

std::string bbErrorOf(const std::string& text) {
  try {
    parseBuildbotTryJob(text);
  } catch (const TryJobError& e) {
    return e.what();
  }
  return "(parsed)";
}

TEST(BuildbotTryJob, MalformedFilesSayWhy) {
  EXPECT_NE(bbErrorOf("1:7,").find("unknown version '7'"), std::string::npos);
  EXPECT_NE(bbErrorOf("5:1,").find("the file ends first"), std::string::npos);
  EXPECT_NE(bbErrorOf("1:1;").find("no ','"), std::string::npos);
  EXPECT_NE(bbErrorOf("x:1,").find("expected 'LENGTH:'"), std::string::npos);
  EXPECT_NE(bbErrorOf("1:2,1:j,").find("needs 7 fields"), std::string::npos);
  EXPECT_NE(bbErrorOf("1:1,1:j,0:,0:,1:x,0:,").find("patch_level 'x'"), std::string::npos);
  EXPECT_NE(bbErrorOf("1:1,1:j,0:,0:,1:1,0:,").find("names no builder"), std::string::npos);
  EXPECT_NE(bbErrorOf("1:5,3:{x},").find("does not parse"), std::string::npos);
  EXPECT_NE(bbErrorOf("1:6,2:{},").find("no 'jobid'"), std::string::npos);
}

TEST(PatchPaths, ReadsUnifiedAndGitPatches) {
  PatchPaths p;
  const std::string git =
      "diff --git a/src/main.c b/src/main.c\nindex 1..2 100644\n--- a/src/main.c\n+++ b/src/main.c\n"
      "@@ -1 +1 @@\n--- not a header\n+++ nor this\n"
      "diff --git a/old.txt b/new.txt\nsimilarity index 90%\nrename from old.txt\nrename to new.txt\n"
      "diff --git a/img.png b/img.png\nnew file mode 100644\nGIT binary patch\nliteral 3\nKcmZ?wWB>pF\n\n";
  ASSERT_EQ(readPatchPaths(git, 1, p), "");
  EXPECT_EQ(p.paths, (std::vector<std::string>{"src/main.c", "old.txt", "new.txt", "img.png"}));
  ASSERT_EQ(readPatchPaths("--- x/a\t2020-01-01\n+++ y/a\t2020-01-01\n@@ -1 +1 @@\n-1\n+2\n", 0, p), "");
  EXPECT_EQ(p.paths, (std::vector<std::string>{"x/a", "y/a"}));
}

TEST(PatchPaths, RefusesEscapes) {
  PatchPaths p;
  EXPECT_EQ(readPatchPaths("--- /etc/passwd\n+++ /etc/passwd\n", 0, p),
            "patch names an absolute path '/etc/passwd'");
  EXPECT_EQ(readPatchPaths("--- a/../../x\n+++ b/../../x\n", 1, p),
            "patch path 'a/../../x' contains '..'");
  EXPECT_NE(readPatchPaths("diff --git a/x b/x\nrename from ../x\nrename to y\n", 1, p).find("'..'"),
            std::string::npos);
  EXPECT_NE(readPatchPaths("--- x\n+++ x\n", 1, p).find("cannot strip 1"), std::string::npos);
  EXPECT_EQ(readPatchPaths("just text\n", 1, p), "the patch names no file");
  const std::string link =
      "diff --git a/ln b/ln\nnew file mode 120000\n--- /dev/null\n+++ b/ln\n@@ -0,0 +1 @@\n+/etc\n";
  ASSERT_EQ(readPatchPaths(link, 1, p), "");
  EXPECT_EQ(p.symlinks, std::vector<std::string>{"ln"});
}

}  // namespace
}  // namespace bb
