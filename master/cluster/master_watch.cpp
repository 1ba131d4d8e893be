#include "master/cluster/master_watch.hpp"

#include <algorithm>
#include <optional>
#include <vector>

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
  if (deadline_) deadline_->cancel();
}

void MasterWatch::armDeadline(const std::vector<db::MasterRecord>& masters) {
  // The first moment another active master's silence passes dead_after:
  // heartbeats are whole seconds, so one stored as S may have been written
  // up to a second after S, and `silentMasters` needs S < now - dead_after,
  // which holds from S + dead_after + 1 on. Checked then, not at the next
  // tick (dead_after/3 later at most), so a dead master's builds are
  // retried within dead_after + 1 s of its last heartbeat.
  std::optional<std::int64_t> due;
  for (const auto& m : masters)
    if (m.active && m.id != self_.value) {
      const std::int64_t at = m.lastHeartbeat + deadAfter_.count() + 1;
      if (!due || at < *due) due = at;
    }
  if (!due) return;
  if (!deadline_) deadline_ = clock_.makeTimer();
  const std::int64_t inMs = std::max<std::int64_t>(0, *due * 1000 - wallMs(clock_)) + kDeadlineSlackMs;
  deadline_->start(std::chrono::milliseconds(inMs), [this] {
    if (!declaredDead_) check();
  });
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
    armDeadline(db_.masters());
  } catch (const std::exception& e) {
    spdlog::error("watching the other masters: {}; trying again in {} s", e.what(), every_.count());
  }
}

}  // namespace bb
