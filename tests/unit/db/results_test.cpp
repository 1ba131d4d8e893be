#include "common/results.hpp"

#include <gtest/gtest.h>

namespace bb {
namespace {

TEST(Results, NamesRoundTrip) {
  for (int i = 0; i < kResultCount; ++i) {
    const Result r = static_cast<Result>(i);
    const auto parsed = resultFromString(toString(r));
    ASSERT_TRUE(parsed.has_value()) << toString(r);
    EXPECT_EQ(*parsed, r);
  }
  EXPECT_EQ(toString(Result::Cancelled), "cancelled");
  EXPECT_FALSE(resultFromString("SUCCESS").has_value());
  EXPECT_FALSE(resultFromString("").has_value());
}

TEST(Results, FromInt) {
  EXPECT_EQ(resultFromInt(0), Result::Success);
  EXPECT_EQ(resultFromInt(6), Result::Cancelled);
  EXPECT_FALSE(resultFromInt(7).has_value());
  EXPECT_FALSE(resultFromInt(-1).has_value());
}

TEST(Results, WorstFollowsSeverityOrder) {
  // Best to worst: Skipped < Success < Warnings < Failure < Exception < Retry < Cancelled.
  const Result order[] = {Result::Skipped,   Result::Success, Result::Warnings, Result::Failure,
                          Result::Exception, Result::Retry,   Result::Cancelled};
  for (std::size_t i = 0; i < std::size(order); ++i) {
    for (std::size_t j = 0; j < std::size(order); ++j) {
      const Result expected = order[std::max(i, j)];
      EXPECT_EQ(worst(order[i], order[j]), expected)
          << toString(order[i]) << " vs " << toString(order[j]);
    }
  }
}

TEST(Results, SkippedNeverHidesSuccess) {
  EXPECT_EQ(worst(Result::Success, Result::Skipped), Result::Success);
  EXPECT_EQ(worst(Result::Skipped, Result::Warnings), Result::Warnings);
  EXPECT_EQ(worst(Result::Skipped, Result::Skipped), Result::Skipped);
}

}  // namespace
}  // namespace bb
