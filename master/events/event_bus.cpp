#include "master/events/event_bus.hpp"

#include <algorithm>
#include <iterator>

#include <spdlog/spdlog.h>

#include "master/secrets/secret_store.hpp"

namespace bb {

struct EventBus::Sub {
  std::uint64_t id = 0;
  Subscriber spec;
  // Waiting events: queue[head..] (a vector with a moving front, so a
  // batch subscriber is offered one contiguous run).
  std::vector<std::shared_ptr<const Event>> queue;
  std::size_t head = 0;
  // The batch being offered to deliverBatch (its capacity is kept).
  std::vector<std::shared_ptr<const Event>> batch;
  std::size_t waiting() const { return queue.size() - head; }
  bool empty() const { return head == queue.size(); }
  // Forgets the first waiting event; compacts once the taken ones are the
  // larger part, so the vector stays within twice what waits.
  void popFront() {
    queue[head++].reset();
    if (head == queue.size()) {
      queue.clear();
      head = 0;
    } else if (head > queue.size() / 2) {
      queue.erase(queue.begin(), queue.begin() + static_cast<std::ptrdiff_t>(head));
      head = 0;
    }
  }
  // Moves every waiting event to `batch` (a deliverBatch that publishes
  // appends to `queue` meanwhile without disturbing what it is reading).
  void moveToBatch() {
    batch.assign(std::make_move_iterator(queue.begin() + static_cast<std::ptrdiff_t>(head)),
                 std::make_move_iterator(queue.end()));
    queue.clear();
    head = 0;
  }
  // Puts back, in front of anything queued meanwhile, the events of
  // `batch` from `from` on (the subscriber was busy).
  void putBack(std::size_t from) {
    queue.insert(queue.begin() + static_cast<std::ptrdiff_t>(head),
                 std::make_move_iterator(batch.begin() + static_cast<std::ptrdiff_t>(from)),
                 std::make_move_iterator(batch.end()));
    batch.clear();
  }
  std::unique_ptr<Timer> retry;
  SteadyTime lastRound{};  // when it was last delivered to (spec.every)
  bool gone = false;
  bool delivering = false;  // a deliver() of it is on the stack (re-entry)
};

EventBus::EventBus(Clock& clock, Post post, AfterCommit afterCommit, Options opts)
    : clock_(clock),
      post_(std::move(post)),
      afterCommit_(std::move(afterCommit)),
      opts_(opts),
      alive_(std::make_shared<bool>(true)) {}

EventBus::~EventBus() {
  *alive_ = false;
  for (auto& [id, s] : subs_) s->gone = true;
}

void EventBus::publish(Event e) {
  std::weak_ptr<bool> alive = alive_;
  afterCommit_([this, alive, e = std::move(e)]() mutable {
    if (alive.lock()) release(std::move(e));
  });
}

void EventBus::release(Event e) {
  if (secrets_ && !secrets_->empty()) e.data = secrets_->maskJson(e.data);
  e.seq = ++seq_;
  e.timeMs = std::chrono::duration_cast<std::chrono::milliseconds>(
                 clock_.wallNow().time_since_epoch())
                 .count();
  auto ev = std::make_shared<const Event>(std::move(e));
  history_.push_back(ev);
  while (history_.size() > opts_.history) history_.pop_front();
  std::vector<std::uint64_t> overflowing;
  for (auto& [id, sub] : subs_) {
    if (!sub->spec.filter.matches(*ev)) continue;
    if (sub->waiting() >= sub->spec.maxQueue) {
      overflowing.push_back(id);
      continue;
    }
    sub->queue.push_back(ev);
  }
  for (auto id : overflowing) {
    auto it = subs_.find(id);
    drop(id, std::to_string(it->second->waiting()) +
                 " events waiting for it (its limit): it is not keeping up");
  }
  scheduleDrain();
}

EventBus::Subscription EventBus::subscribe(Subscriber s) {
  auto sub = std::make_shared<Sub>();
  sub->id = nextId_++;
  sub->spec = std::move(s);
  if (sub->spec.maxQueue == 0) sub->spec.maxQueue = 1;
  Subscription out{sub->id, seq_, true};
  if (sub->spec.afterSeq) {
    const std::uint64_t after = *sub->spec.afterSeq;
    // Complete only if nothing after `after` has been forgotten.
    if (!history_.empty() && history_.front()->seq > after + 1) out.replayComplete = false;
    if (history_.empty() && after < seq_) out.replayComplete = false;
    for (const auto& ev : history_)
      if (ev->seq > after && sub->spec.filter.matches(*ev)) sub->queue.push_back(ev);
  }
  subs_[sub->id] = sub;
  if (!sub->empty()) scheduleDrain();
  subscribersChanged();
  return out;
}

bool EventBus::anyoneMayWant(EventType t, bool fromOtherMaster) const {
  for (const auto& [id, sub] : subs_)
    if (sub->spec.filter.mayMatch(t, fromOtherMaster)) return true;
  return false;
}

void EventBus::unsubscribe(std::uint64_t id) {
  auto it = subs_.find(id);
  if (it == subs_.end()) return;
  it->second->gone = true;
  subs_.erase(it);
  subscribersChanged();
}

void EventBus::resume(std::uint64_t id) {
  auto it = subs_.find(id);
  if (it == subs_.end()) return;
  if (!waitForItsRound(it->second)) deliverTo(it->second);
}

bool EventBus::waitForItsRound(const std::shared_ptr<Sub>& sub) {
  if (sub->spec.every.count() == 0) return false;
  const SteadyTime due = sub->lastRound + sub->spec.every;
  const SteadyTime now = clock_.now();
  if (now >= due) return false;
  if (!sub->retry) sub->retry = clock_.makeTimer();
  if (!sub->retry->pending()) startRetry(sub, std::chrono::duration_cast<std::chrono::milliseconds>(due - now) +
                                                  std::chrono::milliseconds(1));
  return true;
}

void EventBus::startRetry(const std::shared_ptr<Sub>& sub, std::chrono::milliseconds after) {
  if (!sub->retry) sub->retry = clock_.makeTimer();
  std::weak_ptr<Sub> weak = sub;
  sub->retry->start(after, [this, weak] {
    if (auto s = weak.lock(); s && !s->gone) deliverTo(s);
  });
}

void EventBus::scheduleDrain() {
  if (drainPosted_) return;
  drainPosted_ = true;
  std::weak_ptr<bool> alive = alive_;
  post_([this, alive] {
    if (!alive.lock()) return;
    drainPosted_ = false;
    drain();
  });
}

void EventBus::drain() {
  std::vector<std::shared_ptr<Sub>> ready;
  for (auto& [id, sub] : subs_)
    if (!sub->empty() && !(sub->retry && sub->retry->pending())) ready.push_back(sub);
  for (auto& sub : ready)
    if (!sub->gone && !waitForItsRound(sub)) deliverTo(sub);
}

void EventBus::deliverTo(const std::shared_ptr<Sub>& sub) {
  // A deliver() that publishes may reach here again for the same
  // subscriber: the outer loop will take the new events in order.
  if (sub->delivering) return;
  if (sub->retry) sub->retry->cancel();
  struct Guard {
    bool& flag;
    explicit Guard(bool& f) : flag(f) { flag = true; }
    ~Guard() { flag = false; }
  } guard(sub->delivering);
  bool delivered = false;
  bool busy = false;
  while (!sub->empty() && !sub->gone) {
    // Kept for the log line: the handler may publish, which appends to the queue.
    const std::shared_ptr<const Event> first = sub->queue[sub->head];
    try {
      if (sub->spec.deliverBatch) {
        sub->moveToBatch();
        const std::size_t offered = sub->batch.size();
        const std::size_t took = std::min(sub->spec.deliverBatch(sub->batch), offered);
        if (sub->gone) return;
        busy = took < offered;
        delivered = delivered || took > 0;
        sub->putBack(took);
      } else {
        busy = !sub->spec.deliver(*first);
        if (sub->gone) return;
        if (!busy) {
          sub->popFront();
          delivered = true;
        }
      }
    } catch (const std::exception& e) {
      if (!sub->gone)
        drop(sub->id, "its handler failed on " + std::string(toString(first->type)) + " " +
                          std::to_string(first->seq) + (sub->spec.deliverBatch ? " or after it" : "") +
                          ": " + e.what());
      return;
    }
    if (busy) {
      startRetry(sub, std::max(opts_.retry, sub->spec.every));
      break;
    }
  }
  if (delivered && sub->spec.every.count() > 0) sub->lastRound = clock_.now();
  if (delivered && sub->spec.flush && !sub->gone) {
    try {
      sub->spec.flush();
    } catch (const std::exception& e) {
      if (!sub->gone) drop(sub->id, std::string("its flush failed: ") + e.what());
    }
  }
}

void EventBus::drop(std::uint64_t id, const std::string& reason) {
  auto it = subs_.find(id);
  if (it == subs_.end()) return;
  auto sub = it->second;
  sub->gone = true;
  subs_.erase(it);
  ++dropped_;
  subscribersChanged();
  spdlog::warn("event subscriber '{}' ({}) dropped: {}", sub->spec.name, sub->spec.filter.describe(),
               reason);
  if (sub->spec.dropped) {
    std::weak_ptr<bool> alive = alive_;
    post_([alive, cb = std::move(sub->spec.dropped), reason] {
      if (alive.lock()) cb(reason);
    });
  }
}

}  // namespace bb
