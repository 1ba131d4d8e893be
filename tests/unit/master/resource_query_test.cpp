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

ResourceQuery::Page resourceQueryRun(std::multimap<std::string, std::string> params) {
  return ResourceQuery::parse(params).apply(items());
}

std::vector<int> numbers(const ResourceQuery::Page& p) {
  std::vector<int> out;
  for (const auto& i : p.items) out.push_back(i["number"].get<int>());
  return out;
}

TEST(ResourceQuery, NoParametersKeepsEverythingInOrder) {
  const auto p = resourceQueryRun({});
  EXPECT_EQ(numbers(p), (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(p.total, 3);
}

TEST(ResourceQuery, EqualityFiltersAreTypedAndSeveralValuesMeanAny) {
  EXPECT_EQ(numbers(resourceQueryRun({{"builder", "a"}})), (std::vector<int>{1, 3}));
  EXPECT_EQ(numbers(resourceQueryRun({{"complete", "false"}})), (std::vector<int>{2}));
  EXPECT_EQ(numbers(resourceQueryRun({{"complete", "1"}})), (std::vector<int>{1, 3}));
  EXPECT_EQ(numbers(resourceQueryRun({{"number", "1"}, {"number", "3"}})), (std::vector<int>{1, 3}));
  EXPECT_EQ(numbers(resourceQueryRun({{"number__eq", "2"}})), (std::vector<int>{2}));
}

TEST(ResourceQuery, ComparisonOperators) {
  EXPECT_EQ(numbers(resourceQueryRun({{"number__gt", "1"}})), (std::vector<int>{2, 3}));
  EXPECT_EQ(numbers(resourceQueryRun({{"number__ge", "2"}})), (std::vector<int>{2, 3}));
  EXPECT_EQ(numbers(resourceQueryRun({{"number__lt", "2"}})), (std::vector<int>{1}));
  EXPECT_EQ(numbers(resourceQueryRun({{"number__le", "2"}})), (std::vector<int>{1, 2}));
  EXPECT_EQ(numbers(resourceQueryRun({{"number__ne", "2"}})), (std::vector<int>{1, 3}));
  EXPECT_EQ(numbers(resourceQueryRun({{"number__ne", "1"}, {"number__ne", "3"}})), (std::vector<int>{2}));
  EXPECT_EQ(numbers(resourceQueryRun({{"number__gt", "1"}, {"number__lt", "3"}})), (std::vector<int>{2}));
  EXPECT_EQ(numbers(resourceQueryRun({{"t__gt", "1"}})), (std::vector<int>{1, 3}));
  EXPECT_EQ(numbers(resourceQueryRun({{"builder__ge", "b"}})), (std::vector<int>{2}));
}

TEST(ResourceQuery, ContainsMatchesSubstringsAndListElements) {
  EXPECT_EQ(numbers(resourceQueryRun({{"files__contains", "y.c"}})), (std::vector<int>{2}));
  EXPECT_EQ(numbers(resourceQueryRun({{"builder__contains", "b"}})), (std::vector<int>{2}));
}

TEST(ResourceQuery, OrderWithSeveralKeysAndDescending) {
  EXPECT_EQ(numbers(resourceQueryRun({{"order", "-number"}})), (std::vector<int>{3, 2, 1}));
  EXPECT_EQ(numbers(resourceQueryRun({{"order", "builder"}, {"order", "-number"}})), (std::vector<int>{3, 1, 2}));
  EXPECT_EQ(numbers(resourceQueryRun({{"order", "-complete,number"}})), (std::vector<int>{1, 3, 2}));
}

TEST(ResourceQuery, LimitAndOffsetPageAfterFilteringAndTotalCountsAllMatches) {
  const auto p = resourceQueryRun({{"order", "-number"}, {"limit", "1"}, {"offset", "1"}});
  EXPECT_EQ(numbers(p), (std::vector<int>{2}));
  EXPECT_EQ(p.total, 3);
  const auto f = resourceQueryRun({{"builder", "a"}, {"limit", "1"}});
  EXPECT_EQ(numbers(f), (std::vector<int>{1}));
  EXPECT_EQ(f.total, 2);
  EXPECT_TRUE(resourceQueryRun({{"offset", "10"}}).items.empty());
  EXPECT_TRUE(resourceQueryRun({{"limit", "0"}}).items.empty());
}

TEST(ResourceQuery, FieldKeepsOnlyTheNamedKeys) {
  const auto p = resourceQueryRun({{"field", "number"}, {"field", "builder"}, {"limit", "1"}});
  EXPECT_EQ(p.items[0], (Json{{"number", 1}, {"builder", "a"}}));
  EXPECT_EQ(resourceQueryRun({{"field", "number,complete"}}).items[1], (Json{{"number", 2}, {"complete", false}}));
}

TEST(ResourceQuery, MistakesAreErrorsNotEmptyAnswers) {
  EXPECT_THROW(resourceQueryRun({{"nosuch", "1"}}), QueryError);
  EXPECT_THROW(resourceQueryRun({{"order", "-nosuch"}}), QueryError);
  EXPECT_THROW(resourceQueryRun({{"field", "nosuch"}}), QueryError);
  EXPECT_THROW(resourceQueryRun({{"number__near", "1"}}), QueryError);
  EXPECT_THROW(resourceQueryRun({{"number", "one"}}), QueryError);
  EXPECT_THROW(resourceQueryRun({{"complete", "maybe"}}), QueryError);
  EXPECT_THROW(resourceQueryRun({{"limit", "-1"}}), QueryError);
  EXPECT_THROW(resourceQueryRun({{"offset", "x"}}), QueryError);
  EXPECT_THROW(resourceQueryRun({{"order", "-"}}), QueryError);
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
