// Database::listIds: conditions, order, page and total in SQL, for the
// REST collections (master/db/list_db.cpp).
#include <gtest/gtest.h>

#include <stdexcept>

#include "master/db/database.hpp"

namespace bb::db {
namespace {

using Ids = std::vector<std::int64_t>;

class Lists : public ::testing::Test {
 protected:
  // Builds 1..6: b1 #1..#4 and b2 #1..#2; b1 #2 failed, b2 #2 still runs.
  void SetUp() override {
    db.upgrade();
    const MasterId m = db.registerMaster("m", 1);
    for (int i = 1; i <= 6; ++i) {
      const auto b = db.addBuild(m, 0, i <= 4 ? "b1" : "b2", "s1", 100 + i, Json::object());
      if (i != 6) db.finishBuild(b.id, i == 2 ? Result::Failure : Result::Success, "", 200 + i);
    }
  }
  ListPage list(ListQuery q) { return db.listIds(ListTable::Builds, q); }
  Database db{":memory:"};
};

TEST_F(Lists, NewestFirstWithTotalAndPage) {
  EXPECT_EQ(list({}).ids, (Ids{6, 5, 4, 3, 2, 1}));
  ListQuery q;
  q.limit = 2;
  q.offset = 1;
  const auto page = list(q);
  EXPECT_EQ(page.ids, (Ids{5, 4}));
  EXPECT_EQ(page.total, 6);
  q.offset = 10;
  EXPECT_EQ(list(q).ids, Ids{});
  EXPECT_EQ(list(q).total, 6);
  q.offset = 5;  // the short last page
  EXPECT_EQ(list(q).ids, Ids{1});
  EXPECT_EQ(list(q).total, 6);
}

TEST_F(Lists, ConditionsOnNamesNumbersAndBooleans) {
  ListQuery q;
  q.where = {{"builder", ListOp::Eq, {std::string("b1")}}, {"number", ListOp::Ge, {std::int64_t{2}}}};
  q.order = {{"number", false}};
  EXPECT_EQ(list(q).ids, (Ids{2, 3, 4}));
  q.where = {{"buildid", ListOp::Eq, {std::int64_t{1}, std::int64_t{5}}}};
  EXPECT_EQ(list(q).ids, (Ids{5, 1})) << "both are #1: the tie goes newest first";
  q.where = {{"complete", ListOp::Eq, {std::int64_t{0}}}};
  EXPECT_EQ(list(q).ids, Ids{6});
  q.where = {{"worker", ListOp::Ne, {std::string("s1")}}};
  EXPECT_EQ(list(q).total, 0);
}

TEST_F(Lists, NullableFieldsMatchAsTheRestShapeShowsThem) {
  // results is null while a build runs: never equal, always different.
  ListQuery q;
  q.where = {{"results", ListOp::Eq, {std::int64_t{2}}}};
  EXPECT_EQ(list(q).ids, Ids{2});
  q.where = {{"results", ListOp::Ne, {std::int64_t{0}}}};
  EXPECT_EQ(list(q).ids, (Ids{6, 2}));
  // Ordered by complete_at descending, the running build (null) is last.
  q.where.clear();
  q.order = {{"complete_at", true}};
  EXPECT_EQ(list(q).ids, (Ids{5, 4, 3, 2, 1, 6}));
  // Comparisons on them are left to memory.
  q.where = {{"results", ListOp::Lt, {std::int64_t{2}}}};
  EXPECT_THROW(list(q), std::invalid_argument);
}

TEST_F(Lists, UnknownFieldsAreRefusedNotPasted) {
  ListQuery q;
  q.where = {{"1=1; DROP TABLE builds", ListOp::Eq, {std::int64_t{1}}}};
  EXPECT_THROW(list(q), std::invalid_argument);
  q.where.clear();
  q.order = {{"state_string", false}};
  EXPECT_THROW(list(q), std::invalid_argument);
  EXPECT_FALSE(listField(ListTable::Builds, "properties").has_value());
  EXPECT_TRUE(listField(ListTable::Changes, "author").has_value());
  EXPECT_EQ(list({}).total, 6);
}

}  // namespace
}  // namespace bb::db
