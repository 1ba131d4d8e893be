#include "master/master_identity.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "master/db/database.hpp"

namespace bb {

std::chrono::seconds MasterIdentity::intervalFor(std::chrono::seconds deadAfter) {
  return std::clamp(deadAfter / 3, std::chrono::seconds(1), kHeartbeatInterval);
}

MasterIdentity::MasterIdentity(db::Database& db, Clock& clock, std::string name,
                               std::chrono::seconds interval)
    : db_(db), clock_(clock), name_(std::move(name)), interval_(interval) {
  id_ = db_.registerMaster(name_, nowSeconds());
}

MasterIdentity::~MasterIdentity() = default;

std::int64_t MasterIdentity::nowSeconds() const {
  return std::chrono::duration_cast<std::chrono::seconds>(clock_.wallNow().time_since_epoch())
      .count();
}

void MasterIdentity::start() {
  if (!timer_) timer_ = clock_.makeTimer();
  timer_->start(std::chrono::duration_cast<std::chrono::milliseconds>(interval_),
                [this] { beat(); });
}

void MasterIdentity::beat() {
  // The timer is armed again first, so no failure below can stop the
  // heartbeat for good.
  start();
  try {
    db_.masterHeartbeat(id_, nowSeconds());
    if (failing_) spdlog::info("master {}: heartbeat written again", name_);
    failing_ = false;
  } catch (const std::exception& e) {
    if (!failing_) spdlog::error("master {}: cannot write the heartbeat: {}", name_, e.what());
    failing_ = true;
  }
}

void MasterIdentity::stop() {
  if (timer_) timer_->cancel();
  try {
    db_.masterStopped(id_, nowSeconds());
  } catch (const std::exception& e) {
    spdlog::error("master {}: cannot record the clean stop: {}", name_, e.what());
  }
}

}  // namespace bb
