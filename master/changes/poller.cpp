#include "master/changes/poller.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "master/changes/change_bus.hpp"

#include "master/db/database.hpp"

namespace bb {

Poller::Poller(ChangeSourceEntry cfg, ChangeSourceServices& services)
    : cfg_(std::move(cfg)), services_(services) {}

Poller::~Poller() { *alive_ = false; }

void Poller::start() {
  stopped_ = false;
  timer_ = services_.clock.makeTimer();
  pollNow();
}

void Poller::stop() {
  stopped_ = true;
  if (timer_) timer_->cancel();
}

std::int64_t Poller::unixNow() const {
  return std::chrono::duration_cast<std::chrono::seconds>(
             services_.clock.wallNow().time_since_epoch())
      .count();
}

void Poller::pollNow() {
  if (polling_ || stopped_) return;
  polling_ = true;
  lastPollAt_ = unixNow();
  pollStarted_ = std::chrono::steady_clock::now();
  ++polls_;
  try {
    doPoll();
  } catch (const std::exception& e) {
    pollDone(e.what());
  }
}

void Poller::offload(std::function<void()> work, std::function<void()> then) {
  std::weak_ptr<bool> alive = alive_;
  services_.offload([this, alive, work = std::move(work), then = std::move(then)]() mutable {
    std::string error;
    try {
      work();
    } catch (const std::exception& e) {
      error = e.what();
    }
    services_.post([this, alive, error, then = std::move(then)] {
      if (!alive.lock()) return;
      if (!error.empty()) {
        pollDone(error);
        return;
      }
      try {
        then();
      } catch (const std::exception& e) {
        pollDone(e.what());
      }
    });
  });
}

void Poller::pollDone(const std::string& error) {
  if (!polling_) return;
  polling_ = false;
  lastPollMs_ = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - pollStarted_).count();
  const auto interval = std::chrono::seconds(std::max(1, cfg_.interval));
  if (error.empty()) {
    if (failures_ > 0)
      spdlog::info("{} {}: polling works again after {} failure(s)", cfg_.type, cfg_.name, failures_);
    failures_ = 0;
    lastError_.clear();
    lastSuccessAt_ = lastPollAt_;
    arm(interval);
    return;
  }
  ++failures_;
  lastError_ = error;
  const auto wait = std::min<std::chrono::seconds>(
      std::max(interval, kMaxBackoff) , interval * (1LL << std::min(failures_ - 1, 20)));
  spdlog::warn("{} {}: poll failed ({} in a row): {}; next try in {} s", cfg_.type, cfg_.name,
               failures_, error, wait.count());
  arm(wait);
}

void Poller::arm(std::chrono::seconds after) {
  if (stopped_ || !timer_) return;
  nextPollAt_ = unixNow() + after.count();
  timer_->start(std::chrono::duration_cast<std::chrono::milliseconds>(after), [this] { pollNow(); });
}

Json Poller::describe() const {
  Json out{{"name", cfg_.name},        {"type", cfg_.type},
           {"interval", cfg_.interval}, {"polls", polls_},
           {"last_poll_at", lastPollAt_}, {"last_success_at", lastSuccessAt_},
           {"next_poll_at", nextPollAt_}, {"failures", failures_},
           {"polling", polling_}, {"last_poll_ms", lastPollMs_}};
  if (!lastError_.empty()) out["last_error"] = lastError_;
  return out;
}

std::string Poller::recordBranches(const std::vector<BranchResult>& results) {
  const std::string object = cfg_.type + ":" + cfg_.name;
  auto& db = services_.db;
  std::string errors;
  for (const auto& br : results) {
    if (!br.error.empty()) {
      errors += (errors.empty() ? "" : "; ") + br.error;
      continue;
    }
    auto st = db.getState(object, "branch:" + br.branch);
    if (st && st->is_string() && st->get<std::string>() == br.head) continue;
    if (!st && br.commits.empty()) {
      // First sight of this branch: remember where it is, build nothing.
      db.setState(object, "branch:" + br.branch, br.head);
      spdlog::info("{} {}: watching {} at {}", cfg_.type, cfg_.name, br.branch, br.head.substr(0, 12));
      continue;
    }
    for (const auto& c : br.commits) {
      db::ChangeRecord ch;
      ch.author = c.author;
      ch.comments = c.comments;
      ch.branch = br.branch;
      ch.revision = c.revision;
      ch.repository = cfg_.repo;
      ch.project = cfg_.project;
      ch.category = cfg_.category;
      ch.when = c.when;
      ch.files = c.files;
      ch.source = object;
      // The branch's position moves with each change, in the same
      // transaction, so a crash part way never repeats a change.
      const std::string rev = c.revision;
      services_.bus.addChange(std::move(ch),
                              [&, rev] { db.setState(object, "branch:" + br.branch, rev); });
    }
    db.setState(object, "branch:" + br.branch, br.head);
  }
  return errors;
}

}  // namespace bb
