// The web API's generic filter/order/page module (master/web/resource_query).
#include <gtest/gtest.h>

#include "master/web/resource_query.hpp"

namespace bb::web {
namespace {

Json items() {
  return Json::array({Json{{"number", 1}, {"builder", "a"}, {"complete", true}, {"files", {"x.c"}}, {"t", 1.5}},
                      Json{{"number", 2}, {"builder", "b"}, {"complete", false}, {"files", {"y.c"}}, {"t", 0.5}},
                      Json{{"number", 3}, {"builder", "a"}, {"complete", true}, {"files", Json::array()}, {"t", 2.5}}});
}

ResourceQuery::Page run(std::multimap<std::string, std::string> params) {
  return ResourceQuery::parse(params).apply(items());
}

std::vector<int> numbers(const ResourceQuery::Page& p) {
  std::vector<int> out;
  for (const auto& i : p.items) out.push_back(i["number"].get<int>());
  return out;
}

TEST(ResourceQuery, NoParametersKeepsEverythingInOrder) {
  const auto p = run({});
  EXPECT_EQ(numbers(p), (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(p.total, 3);
}

TEST(ResourceQuery, EqualityFiltersAreTypedAndSeveralValuesMeanAny) {
  EXPECT_EQ(numbers(run({{"builder", "a"}})), (std::vector<int>{1, 3}));
  EXPECT_EQ(numbers(run({{"complete", "false"}})), (std::vector<int>{2}));
  EXPECT_EQ(numbers(run({{"complete", "1"}})), (std::vector<int>{1, 3}));
  EXPECT_EQ(numbers(run({{"number", "1"}, {"number", "3"}})), (std::vector<int>{1, 3}));
  EXPECT_EQ(numbers(run({{"number__eq", "2"}})), (std::vector<int>{2}));
}

TEST(ResourceQuery, ComparisonOperators) {
  EXPECT_EQ(numbers(run({{"number__gt", "1"}})), (std::vector<int>{2, 3}));
  EXPECT_EQ(numbers(run({{"number__ge", "2"}})), (std::vector<int>{2, 3}));
  EXPECT_EQ(numbers(run({{"number__lt", "2"}})), (std::vector<int>{1}));
  EXPECT_EQ(numbers(run({{"number__le", "2"}})), (std::vector<int>{1, 2}));
  EXPECT_EQ(numbers(run({{"number__ne", "2"}})), (std::vector<int>{1, 3}));
  EXPECT_EQ(numbers(run({{"number__ne", "1"}, {"number__ne", "3"}})), (std::vector<int>{2}));
  EXPECT_EQ(numbers(run({{"number__gt", "1"}, {"number__lt", "3"}})), (std::vector<int>{2}));
  EXPECT_EQ(numbers(run({{"t__gt", "1"}})), (std::vector<int>{1, 3}));
  EXPECT_EQ(numbers(run({{"builder__ge", "b"}})), (std::vector<int>{2}));
}

TEST(ResourceQuery, ContainsMatchesSubstringsAndListElements) {
  EXPECT_EQ(numbers(run({{"files__contains", "y.c"}})), (std::vector<int>{2}));
  EXPECT_EQ(numbers(run({{"builder__contains", "b"}})), (std::vector<int>{2}));
}

TEST(ResourceQuery, OrderWithSeveralKeysAndDescending) {
  EXPECT_EQ(numbers(run({{"order", "-number"}})), (std::vector<int>{3, 2, 1}));
  EXPECT_EQ(numbers(run({{"order", "builder"}, {"order", "-number"}})), (std::vector<int>{3, 1, 2}));
  EXPECT_EQ(numbers(run({{"order", "-complete,number"}})), (std::vector<int>{1, 3, 2}));
}

TEST(ResourceQuery, LimitAndOffsetPageAfterFilteringAndTotalCountsAllMatches) {
  const auto p = run({{"order", "-number"}, {"limit", "1"}, {"offset", "1"}});
  EXPECT_EQ(numbers(p), (std::vector<int>{2}));
  EXPECT_EQ(p.total, 3);
  const auto f = run({{"builder", "a"}, {"limit", "1"}});
  EXPECT_EQ(numbers(f), (std::vector<int>{1}));
  EXPECT_EQ(f.total, 2);
  EXPECT_TRUE(run({{"offset", "10"}}).items.empty());
  EXPECT_TRUE(run({{"limit", "0"}}).items.empty());
}

TEST(ResourceQuery, FieldKeepsOnlyTheNamedKeys) {
  const auto p = run({{"field", "number"}, {"field", "builder"}, {"limit", "1"}});
  EXPECT_EQ(p.items[0], (Json{{"number", 1}, {"builder", "a"}}));
  EXPECT_EQ(run({{"field", "number,complete"}}).items[1], (Json{{"number", 2}, {"complete", false}}));
}

TEST(ResourceQuery, MistakesAreErrorsNotEmptyAnswers) {
  EXPECT_THROW(run({{"nosuch", "1"}}), QueryError);
  EXPECT_THROW(run({{"order", "-nosuch"}}), QueryError);
  EXPECT_THROW(run({{"field", "nosuch"}}), QueryError);
  EXPECT_THROW(run({{"number__near", "1"}}), QueryError);
  EXPECT_THROW(run({{"number", "one"}}), QueryError);
  EXPECT_THROW(run({{"complete", "maybe"}}), QueryError);
  EXPECT_THROW(run({{"limit", "-1"}}), QueryError);
  EXPECT_THROW(run({{"offset", "x"}}), QueryError);
  EXPECT_THROW(run({{"order", "-"}}), QueryError);
}

TEST(ResourceQuery, ReservedNamesAreNotFiltersAndEqualToFindsPushDowns) {
  const auto q = ResourceQuery::parse({{"builder", "a"}, {"tail", "5"}}, {"tail"});
  EXPECT_EQ(q.equalTo("builder"), "a");
  EXPECT_EQ(q.equalTo("number"), std::nullopt);
  EXPECT_EQ(q.filters.size(), 1u);
  const auto two = ResourceQuery::parse({{"builder", "a"}, {"builder", "b"}});
  EXPECT_EQ(two.equalTo("builder"), std::nullopt);
}

TEST(ResourceQuery, AnEmptyListAcceptsAnyFieldAndListReplyHasBuildbotsShape) {
  const auto p = ResourceQuery::parse({{"whatever", "1"}}).apply(Json::array());
  EXPECT_EQ(listReply("builds", p), (Json{{"builds", Json::array()}, {"meta", {{"total", 0}}}}));
}

}  // namespace
}  // namespace bb::web
