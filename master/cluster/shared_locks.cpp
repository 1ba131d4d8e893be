#include "master/cluster/shared_locks.hpp"

#include <spdlog/spdlog.h>

#include "master/db/database.hpp"

namespace bb {

SharedLocks::SharedLocks(db::Database& db, Clock& clock, db::MasterId self, Post post,
                         std::function<void()> announce, std::chrono::seconds markWindow)
    : db_(db),
      clock_(clock),
      self_(self),
      post_(std::move(post)),
      announce_(std::move(announce)),
      markWindow_(markWindow) {}

std::int64_t SharedLocks::now() const {
  return std::chrono::duration_cast<std::chrono::seconds>(clock_.wallNow().time_since_epoch()).count();
}

std::optional<LockClaims::Refusal> SharedLocks::claim(const std::vector<db::LockHoldChange>& changes) {
  retryReleases();
  std::optional<std::size_t> refused;
  const std::int64_t marksSince = now() - markWindow_.count();
  try {
    refused = db_.changeLockHolds(self_, changes, now(), marksSince);
  } catch (const std::exception& e) {
    spdlog::error("locks: cannot claim lock '{}' in the database: {}; the build waits and asks again "
                  "at the next release or heartbeat",
                  changes.front().lock, e.what());
    return Refusal{changes.front().lock, std::string("the database could not be asked: ") + e.what()};
  }
  if (!refused) return std::nullopt;
  const std::string& lock = changes.at(*refused).lock;
  const bool exclusive = changes.at(*refused).to == db::LockHold::Exclusive;
  if (exclusive) {
    try {
      db_.markLockWaiter(lock, self_, now());
    } catch (const std::exception& e) {
      spdlog::warn("locks: cannot mark that an exclusive claim of lock '{}' waits here: {}", lock, e.what());
    }
  }
  // Who holds it, for status only: the grant itself was the UPDATE above.
  std::string why;
  try {
    std::string master;
    for (const auto& h : db_.lockHolders(lock)) {
      if (h.master == self_) continue;
      if (h.masterName != master) {
        why += (why.empty() ? "held on master " : "; on master ") + h.masterName + " by ";
        master = h.masterName;
      } else {
        why += ", ";
      }
      why += h.owner;
    }
    // A counting claim may be refused with slots free: an exclusive claim
    // waits on another master, and goes first.
    if (!exclusive)
      for (const auto& m : db_.lockWaiters(lock, self_, marksSince))
        why += (why.empty() ? "" : "; ") + std::string("an exclusive claim waiting on master ") + m + " goes first";
  } catch (const std::exception& e) {
    spdlog::warn("locks: cannot read who holds lock '{}': {}", lock, e.what());
  }
  return Refusal{lock, why.empty() ? "held on another master" : why};
}

void SharedLocks::release(const std::vector<db::LockHoldChange>& changes) {
  try {
    db_.changeLockHolds(self_, changes, now());
    announceSoon();
  } catch (const std::exception& e) {
    spdlog::error("locks: cannot release lock '{}' in the database: {}; trying again at the next claim "
                  "or heartbeat (other masters cannot take it meanwhile)",
                  changes.front().lock, e.what());
    unreleased_.insert(unreleased_.end(), changes.begin(), changes.end());
  }
}

void SharedLocks::retryReleases() {
  if (unreleased_.empty()) return;
  try {
    // Dropping a hold twice changes nothing (changeLockHolds), so a release
    // whose commit was lost with the connection is safe to write again.
    db_.changeLockHolds(self_, unreleased_, now());
    spdlog::info("locks: {} release(s) the database had refused are written now", unreleased_.size());
    unreleased_.clear();
    announceSoon();
  } catch (const std::exception& e) {
    spdlog::warn("locks: {} release(s) still not written: {}", unreleased_.size(), e.what());
  }
}

std::vector<db::LockHolderRecord> SharedLocks::elsewhere() {
  std::vector<db::LockHolderRecord> out;
  try {
    for (auto& h : db_.lockHolders())
      if (h.master != self_) out.push_back(std::move(h));
  } catch (const std::exception& e) {
    spdlog::warn("locks: cannot read the other masters' locks: {}", e.what());
  }
  return out;
}

void SharedLocks::announceSoon() {
  if (announcing_ || !announce_) return;
  announcing_ = true;
  post_([this] {
    announcing_ = false;
    announce_();
  });
}

}  // namespace bb
