#include "master/cluster/master_watch.hpp"

#include <optional>

#include <spdlog/spdlog.h>

#include "master/db/database.hpp"

namespace bb {

MasterWatch::MasterWatch(db::Database& db, Clock& clock, db::MasterId self,
                         std::chrono::seconds deadAfter, std::chrono::seconds every,
                         OnTakeover onTakeover, std::function<void()> onDeclaredDead)
    : db_(db),
      clock_(clock),
      self_(self),
      deadAfter_(deadAfter),
      every_(every),
      onTakeover_(std::move(onTakeover)),
      onDeclaredDead_(std::move(onDeclaredDead)) {}

MasterWatch::~MasterWatch() = default;

void MasterWatch::start() {
  if (!timer_) timer_ = clock_.makeTimer();
  timer_->start(std::chrono::duration_cast<std::chrono::milliseconds>(every_), [this] {
    start();  // armed again first: no failure below stops the watch
    check();
    if (declaredDead_ || !onTick_) return;
    try {
      onTick_();
    } catch (const std::exception& e) {
      spdlog::error("watching the other masters: {}", e.what());
    }
  });
}

void MasterWatch::stop() {
  if (timer_) timer_->cancel();
}

void MasterWatch::check() {
  const auto now =
      std::chrono::duration_cast<std::chrono::seconds>(clock_.wallNow().time_since_epoch()).count();
  const auto before = now - deadAfter_.count();
  try {
    if (!declaredDead_ && !db_.masterStillActive(self_)) {
      declaredDead_ = true;
      spdlog::critical("this master was declared dead by another master (its heartbeat was older than "
                       "dead_after = {} s); its builds were retried elsewhere",
                       deadAfter_.count());
      if (onDeclaredDead_) onDeclaredDead_();
      return;
    }
    for (const auto& m : db_.silentMasters(self_, before)) {
      const db::MasterId dead{m.id};
      const auto taken = db_.transaction([&]() -> std::optional<TakenOver> {
        if (!db_.declareMasterDead(dead, before)) return std::nullopt;  // another survivor did
        return takeOverWorkOf(db_, dead, now,
                              "master " + m.name + " died (no heartbeat for " +
                                  std::to_string(now - m.lastHeartbeat) + " s)",
                              /*releaseSchedulers=*/true);
      });
      if (!taken) continue;
      spdlog::warn("master {} (id {}) declared dead: last heartbeat {} s ago (dead_after {} s); {} build(s) "
                   "marked retry, {} request(s) back in the queue, {} scheduler(s) released, {} lock hold(s) dropped",
                   m.name, m.id, now - m.lastHeartbeat, deadAfter_.count(), taken->builds,
                   taken->requests, taken->schedulers, taken->locks);
      if (onTakeover_) onTakeover_(m.name, *taken);
    }
  } catch (const std::exception& e) {
    spdlog::error("watching the other masters: {}; trying again in {} s", e.what(), every_.count());
  }
}

}  // namespace bb
