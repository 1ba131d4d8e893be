// The mail modes: which builds each one mails, for the sequences of
// results docs/notifiers.md describes.
#include <gtest/gtest.h>

#include <optional>
#include <vector>

#include "master/reporters/mail_decision.hpp"

namespace bb {
namespace {

// How many of `results` (one builder's builds in order) mode `m` mails.
int mailed(MailMode m, const std::vector<Result>& results) {
  int n = 0;
  std::optional<Result> prev;
  for (Result r : results) {
    if (mailWanted({m}, r, prev)) ++n;
    if (r != Result::Retry) prev = r;
  }
  return n;
}

TEST(MailDecision, PassFailFailPass) {
  const std::vector<Result> seq{Result::Success, Result::Failure, Result::Failure, Result::Success};
  EXPECT_EQ(mailed(MailMode::All, seq), 4);
  EXPECT_EQ(mailed(MailMode::Failing, seq), 2);
  EXPECT_EQ(mailed(MailMode::Passing, seq), 2);
  EXPECT_EQ(mailed(MailMode::Problem, seq), 1);
  EXPECT_EQ(mailed(MailMode::Change, seq), 2);
  EXPECT_EQ(mailed(MailMode::Warnings, seq), 0);
  EXPECT_EQ(mailed(MailMode::Exception, seq), 0);
}

TEST(MailDecision, ProblemCountsAFirstBuildThatFailsChangeNeedsAPreviousBuild) {
  EXPECT_TRUE(mailWanted({MailMode::Problem}, Result::Failure, std::nullopt));
  EXPECT_FALSE(mailWanted({MailMode::Change}, Result::Failure, std::nullopt));
  EXPECT_TRUE(mailWanted({MailMode::Problem}, Result::Failure, Result::Exception));
  EXPECT_TRUE(mailWanted({MailMode::Change}, Result::Warnings, Result::Success));
}

TEST(MailDecision, WarningsAndExceptionMailOnlyTheirResult) {
  EXPECT_TRUE(mailWanted({MailMode::Warnings}, Result::Warnings, std::nullopt));
  EXPECT_FALSE(mailWanted({MailMode::Warnings}, Result::Failure, std::nullopt));
  EXPECT_TRUE(mailWanted({MailMode::Exception}, Result::Exception, std::nullopt));
  EXPECT_FALSE(mailWanted({MailMode::Exception}, Result::Cancelled, std::nullopt));
}

TEST(MailDecision, SeveralModesMailWhenAnyMatchesARetryIsNeverMailed) {
  EXPECT_TRUE(mailWanted({MailMode::Passing, MailMode::Exception}, Result::Exception, std::nullopt));
  EXPECT_FALSE(mailWanted({MailMode::Passing, MailMode::Exception}, Result::Failure, std::nullopt));
  EXPECT_FALSE(mailWanted({MailMode::All}, Result::Retry, Result::Success));
  // A retry between two failures does not make the second a "problem".
  EXPECT_EQ(mailed(MailMode::Problem, {Result::Failure, Result::Retry, Result::Failure}), 1);
}

}  // namespace
}  // namespace bb
