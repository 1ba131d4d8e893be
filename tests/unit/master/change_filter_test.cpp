#include "master/schedulers/change_filter.hpp"

#include <gtest/gtest.h>

namespace bb {
namespace {

TEST(GlobMatch, StarStaysInOneSegment) {
  EXPECT_TRUE(globMatch("src/*.c", "src/main.c"));
  EXPECT_FALSE(globMatch("src/*.c", "src/sub/main.c"));
  EXPECT_FALSE(globMatch("*.c", "src/main.c"));
}

TEST(GlobMatch, DoubleStarSpansSegments) {
  EXPECT_TRUE(globMatch("src/**", "src/a/b/c.c"));
  EXPECT_TRUE(globMatch("**/*.md", "README.md"));
  EXPECT_TRUE(globMatch("**/*.md", "docs/a/b.md"));
  EXPECT_TRUE(globMatch("src/**/test_*.c", "src/test_a.c"));
  EXPECT_TRUE(globMatch("src/**/test_*.c", "src/x/y/test_a.c"));
  EXPECT_FALSE(globMatch("src/**", "lib/a.c"));
}

TEST(GlobMatch, QuestionMark) {
  EXPECT_TRUE(globMatch("a?c", "abc"));
  EXPECT_FALSE(globMatch("a?c", "a/c"));
  EXPECT_FALSE(globMatch("a?c", "ac"));
}

TEST(IsImportant, IncludeAndExclude) {
  FileFilter f{{"src/**"}, {"src/docs/**"}};
  EXPECT_TRUE(isImportant(f, {"src/main.c"}));
  EXPECT_FALSE(isImportant(f, {"src/docs/x.md"}));
  EXPECT_FALSE(isImportant(f, {"README.md"}));
  EXPECT_TRUE(isImportant(f, {"README.md", "src/a.c"}));
}

TEST(IsImportant, OnlyExcludeMeansEverythingElse) {
  FileFilter f{{}, {"docs/**"}};
  EXPECT_TRUE(isImportant(f, {"src/a.c"}));
  EXPECT_FALSE(isImportant(f, {"docs/a.md", "docs/b.md"}));
}

TEST(IsImportant, NoFilterOrNoFilesIsImportant) {
  EXPECT_TRUE(isImportant(FileFilter{}, {"anything"}));
  EXPECT_TRUE(isImportant(FileFilter{{"src/**"}, {}}, {}));
}

}  // namespace
}  // namespace bb
