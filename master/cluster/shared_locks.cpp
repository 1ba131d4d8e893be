#include "master/cluster/shared_locks.hpp"

#include <spdlog/spdlog.h>

#include "common/message.hpp"  // Json
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

std::string SharedLocks::planText(const BuildLockPlan& plan) {
  auto list = [](const std::vector<LockAccess>& v) {
    Json out = Json::array();
    for (const LockAccess& a : v) out.push_back(Json::array({a.lock, a.access}));
    return out;
  };
  return Json{{"name", plan.name}, {"slave", plan.slave}, {"build", list(plan.buildLocks)},
              {"steps", list(plan.stepLocks)}}
      .dump();
}

std::optional<BuildLockPlan> SharedLocks::parsePlan(const std::string& text, const std::string& master) {
  const Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.value("name", Json()).is_string() || !j.value("slave", Json()).is_string())
    return std::nullopt;
  BuildLockPlan p;
  p.name = j["name"].get<std::string>() + " on master " + master;
  p.slave = j["slave"].get<std::string>();
  auto list = [&j](const char* key, std::vector<LockAccess>& to) {
    const Json& v = j.value(key, Json());
    if (!v.is_array()) return false;
    for (const Json& a : v) {
      if (!a.is_array() || a.size() != 2 || !a[0].is_string() || !a[1].is_string()) return false;
      to.push_back(LockAccess{a[0].get<std::string>(), a[1].get<std::string>()});
    }
    return true;
  };
  if (!list("build", p.buildLocks) || !list("steps", p.stepLocks)) return std::nullopt;
  return p;
}

namespace {

std::vector<BuildLockPlan> plansOf(const std::vector<db::LockPlanRecord>& rows) {
  std::vector<BuildLockPlan> out;
  for (const auto& r : rows) {
    if (auto p = SharedLocks::parsePlan(r.plan, r.masterName)) out.push_back(std::move(*p));
    else spdlog::warn("locks: master {} stored a lock plan this master cannot read ('{}'); it is left out of "
                      "the deadlock rule",
                      r.masterName, r.plan.substr(0, 200));
  }
  return out;
}

}  // namespace

std::vector<BuildLockPlan> SharedLocks::others() { return plansOf(db_.lockPlans(self_)); }

bool SharedLocks::admit(std::int64_t key, const BuildLockPlan& plan,
                        const std::function<bool(const std::vector<BuildLockPlan>&)>& ok) {
  retryReleases();
  return db_.admitLockPlan(self_, key, planText(plan), now(),
                           [&](const std::vector<db::LockPlanRecord>& rows) { return ok(plansOf(rows)); });
}

void SharedLocks::remove(std::int64_t key) {
  try {
    db_.dropLockPlan(self_, key);
    announceSoon();
  } catch (const std::exception& e) {
    spdlog::warn("locks: cannot drop the lock plan of request {} from the database ({}); written again at "
                 "the next heartbeat",
                 key, e.what());
    undroppedPlans_.push_back(key);
  }
}

void SharedLocks::retryReleases() {
  if (!undroppedPlans_.empty()) {
    try {
      db_.transaction([&] {
        for (std::int64_t key : undroppedPlans_) db_.dropLockPlan(self_, key);
      });
      spdlog::info("locks: {} lock plan(s) the database had kept are dropped now", undroppedPlans_.size());
      undroppedPlans_.clear();
      announceSoon();
    } catch (const std::exception& e) {
      spdlog::warn("locks: {} lock plan(s) still not dropped: {}", undroppedPlans_.size(), e.what());
    }
  }
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
