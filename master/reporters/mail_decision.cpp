#include "master/reporters/mail_decision.hpp"

namespace bb {

namespace {

bool modeWants(MailMode m, Result r, std::optional<Result> previous) {
  switch (m) {
    case MailMode::All: return true;
    case MailMode::Failing: return r == Result::Failure;
    case MailMode::Passing: return r == Result::Success;
    case MailMode::Warnings: return r == Result::Warnings;
    case MailMode::Exception: return r == Result::Exception;
    case MailMode::Problem: return r == Result::Failure && (!previous || *previous != Result::Failure);
    case MailMode::Change: return previous && *previous != r;
  }
  return false;
}

}  // namespace

bool mailWanted(const std::set<MailMode>& modes, Result r, std::optional<Result> previous) {
  if (r == Result::Retry) return false;
  for (MailMode m : modes)
    if (modeWants(m, r, previous)) return true;
  return false;
}

}  // namespace bb
