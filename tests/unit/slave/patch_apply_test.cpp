// The git command applying a try patch, and the checks before it writes,
// against real repositories made with the git CLI.
#include "slave/patch_apply.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "common/base64.hpp"
#include "common/event_loop.hpp"
#include "slave/child_reaper.hpp"
#include "slave/git_command.hpp"
#include "slave_test_util.hpp"

namespace bb {
namespace {

namespace fs = std::filesystem;

class PatchApplyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    origin = base.path() + "/origin";
    sh("git init --quiet -b main '" + origin + "'");
    { std::ofstream(origin + "/a.txt") << "one\ntwo\n"; }
    sh("cd '" + origin + "' && git add a.txt && " + kGit + " commit --quiet -m first");
  }
  static constexpr const char* kGit = "git -c user.name=Test -c user.email=t@example.org";
  std::string sh(const std::string& cmd) {
    FILE* p = ::popen(cmd.c_str(), "r");
    std::string out;
    char buf[4096];
    while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
    EXPECT_EQ(::pclose(p), 0) << cmd;
    return out;
  }
  // A patch made by git in a scratch clone by `edit` (a shell command).
  std::string makePatch(const std::string& edit) {
    const std::string scratch = base.path() + "/scratch";
    fs::remove_all(scratch);
    sh("git clone --quiet '" + origin + "' '" + scratch + "'");
    sh("cd '" + scratch + "' && " + edit + " && git add -A && git diff --cached --binary");
    return sh("cd '" + scratch + "' && git diff --cached --binary");
  }
  Json checkout(const std::string& patch, int level = 1) {
    sink = test::RecordingSink{};
    Json args{{"repo", origin}, {"workdir", "b/build"},
              {"patch", {{"level", level}, {"body_base64", base64Encode(patch)}}}};
    if (patch.empty()) args.erase("patch");
    auto cmd = RemoteCommand::create(ctx, sink, 3, "git", 1 << 20, args);
    cmd->start();
    EXPECT_TRUE(test::runUntil(io, [&] { return sink.complete; }));
    return sink.done.value_or(Json::object());
  }
  fs::path work() const { return fs::path(base.path()) / "b/build"; }

  test::TempDir base;
  std::string origin;
  boost::asio::io_context io;
  ManualClock clock;
  ChildReaper reaper{io};
  CommandContext ctx{io, clock, reaper, base.path(), std::chrono::seconds(5), currentEnvironment()};
  test::RecordingSink sink;
};

TEST_F(PatchApplyTest, AppliesTextAndBinaryPatchesAndCleansAfterwards) {
  const std::string patch = makePatch(
      "printf 'one\\nTWO\\n' > a.txt && printf '\\000\\001\\002\\377' > blob.bin");
  ASSERT_NE(patch.find("GIT binary patch"), std::string::npos);
  Json done = checkout(patch);
  ASSERT_EQ(done["rc"], 0) << sink.hdr() << sink.err();
  EXPECT_EQ(test::readFile(work() / "a.txt"), "one\nTWO\n");
  EXPECT_EQ(test::readFile(work() / "blob.bin"), std::string("\0\1\2\377", 4));
  EXPECT_EQ(done["props"]["got_revision"], sh("cd '" + origin + "' && git rev-parse HEAD").substr(0, 40));
  // The next plain checkout in the same tree is the revision, unpatched.
  done = checkout("");
  ASSERT_EQ(done["rc"], 0) << sink.hdr();
  EXPECT_EQ(test::readFile(work() / "a.txt"), "one\ntwo\n");
  EXPECT_FALSE(fs::exists(work() / "blob.bin"));
}

TEST_F(PatchApplyTest, APatchThatDoesNotApplyFailsWithTheRejectInTheLog) {
  const std::string patch = "diff --git a/a.txt b/a.txt\n--- a/a.txt\n+++ b/a.txt\n"
                            "@@ -1,2 +1,2 @@\n one\n-zzz\n+yyy\n";
  Json done = checkout(patch);
  EXPECT_NE(done["rc"], 0);
  EXPECT_NE(sink.hdr().find("does not apply"), std::string::npos) << sink.hdr();
  EXPECT_NE((sink.err() + sink.out()).find("a.txt"), std::string::npos) << sink.err();
  EXPECT_EQ(test::readFile(work() / "a.txt"), "one\ntwo\n");
}

TEST_F(PatchApplyTest, RefusesEscapesBeforeWritingAnything) {
  // Escapes by name: refused with the path named.
  for (const auto& [patch, why] : std::vector<std::pair<std::string, std::string>>{
           {"--- a/../../evil\n+++ b/../../evil\n@@ -0,0 +1 @@\n+x\n", "contains '..'"},
           {"--- /tmp/evil\n+++ /tmp/evil\n@@ -0,0 +1 @@\n+x\n", "absolute path"}}) {
    Json done = checkout(patch);
    EXPECT_NE(done["rc"], 0);
    EXPECT_NE(sink.hdr().find(why), std::string::npos) << sink.hdr();
    EXPECT_FALSE(fs::exists(work() / ".git" / GitCommand::kPatchFile));
  }
  // Through a link the tree already holds.
  const std::string outside = base.path() + "/outside";
  fs::create_directories(outside);
  { std::ofstream(origin + "/dummy") << "x"; }
  sh("cd '" + origin + "' && ln -s '" + outside + "' out && git add -A && " + kGit +
     " commit --quiet -m link");
  Json done = checkout("--- a/out/pwned\n+++ b/out/pwned\n@@ -0,0 +1 @@\n+x\n");
  EXPECT_NE(done["rc"], 0);
  EXPECT_NE(sink.hdr().find("through the symbolic link 'out'"), std::string::npos) << sink.hdr();
  EXPECT_FALSE(fs::exists(outside + "/pwned"));
  // Through a link the patch itself creates.
  const std::string self =
      "diff --git a/ln b/ln\nnew file mode 120000\n--- /dev/null\n+++ b/ln\n@@ -0,0 +1 @@\n+" +
      outside + "\n\\ No newline at end of file\n"
      "diff --git a/ln/x b/ln/x\nnew file mode 100644\n--- /dev/null\n+++ b/ln/x\n@@ -0,0 +1 @@\n+x\n";
  done = checkout(self);
  EXPECT_NE(done["rc"], 0);
  EXPECT_NE(sink.hdr().find("below the symbolic link 'ln'"), std::string::npos) << sink.hdr();
  EXPECT_FALSE(fs::exists(outside + "/x"));
  EXPECT_FALSE(fs::exists(work() / "ln"));
}

TEST(PatchCommands, PatchDryRunsBeforeWriting) {
  const auto cmds = patchCommands(TryPatch{2, "x"}, "/tmp/p");
  ASSERT_EQ(cmds.size(), 2u);
  EXPECT_EQ(cmds[0][1], "-p2");
  EXPECT_NE(std::find(cmds[0].begin(), cmds[0].end(), "--dry-run"), cmds[0].end());
  EXPECT_EQ(std::find(cmds[1].begin(), cmds[1].end(), "--dry-run"), cmds[1].end());
}

TEST(PatchCommands, PatchAppliesAUnifiedDiffInAPlainTree) {
  test::TempDir dir;
  { std::ofstream(dir.path() + "/f") << "a\nb\n"; }
  TryPatch p{0, "--- f\n+++ f\n@@ -1,2 +1,2 @@\n a\n-b\n+c\n"};
  ASSERT_EQ(checkPatchInTree(dir.path(), p), "");
  std::string error;
  ASSERT_TRUE(writePatchFile(dir.path() + "/.p", p, error)) << error;
  for (const auto& argv : patchCommands(p, dir.path() + "/.p")) {
    std::string cmd = "cd '" + dir.path() + "' &&";
    for (const auto& a : argv) cmd += " '" + a + "'";
    ASSERT_EQ(std::system((cmd + " >/dev/null").c_str()), 0) << cmd;
  }
  EXPECT_EQ(test::readFile(dir.path() + "/f"), "a\nc\n");
}

}  // namespace
}  // namespace bb
