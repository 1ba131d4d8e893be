#pragma once
// The master's one event bus. Components publish typed events (event.hpp)
// and each subscriber gets the ones its filter matches, in publish order.
//
// Contract:
//  - publish() inside a database transaction holds the event until that
//    transaction commits, and forgets it if it rolls back: nobody hears of
//    anything that is not written.
//  - Delivery is never synchronous with publish(): events go into each
//    matching subscriber's queue and are delivered from a task posted to
//    the master's loop, so a publisher never runs a listener's code.
//  - Every queue is bounded: a subscriber whose queue reaches its limit is
//    dropped with a logged reason and told why (its `dropped` callback,
//    posted). It never slows the publisher or grows memory.
//  - A subscriber whose `deliver` throws is dropped the same way; its owner
//    decides what that means (components catch their own errors first).
//  - The last `history` events are kept, so a subscriber can start from a
//    sequence number it saw before (a client that forced a build, an HTTP
//    client's Last-Event-ID) without missing what happened in between.
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "common/event_loop.hpp"
#include "master/events/event_filter.hpp"

namespace bb {

class SecretStore;

struct Subscriber {
  std::string name;  // for log lines: "distributor", "client alice watch"
  EventFilter filter;
  // Takes one event; returns false when it cannot take it now (a client
  // whose socket is backed up): the event stays queued and delivery is
  // tried again after a short delay or on EventBus::resume().
  std::function<bool(const Event&)> deliver;
  // Optional, instead of `deliver`: takes every event waiting for it,
  // oldest first, in one call, and returns how many it took; fewer than
  // offered means it is busy (as `deliver` returning false): the rest stay
  // queued. With many subscribers on every event (web clients), one call
  // per round instead of one per event is most of the bus's cost.
  std::function<std::size_t(std::span<const std::shared_ptr<const Event>>)> deliverBatch;
  // Optional: called after each round that delivered something, so a sink
  // can send a batch at once.
  std::function<void()> flush;
  // Optional: the subscriber was dropped, and why. Not called by
  // unsubscribe().
  std::function<void(const std::string& reason)> dropped;
  std::size_t maxQueue = 10000;
  // Optional: at most one delivery round per this interval (what arrives
  // meanwhile waits in the queue and goes in the next round, resume()
  // included). For a subscriber whose cost is per round, not per event: a
  // web client's write to its socket.
  std::chrono::milliseconds every{0};
  // Replay the kept events after this sequence number first.
  std::optional<std::uint64_t> afterSeq;
};

class EventBus {
 public:
  using Post = std::function<void(std::function<void()>)>;
  using AfterCommit = std::function<void(std::function<void()>)>;

  struct Options {
    std::size_t history = 4096;
    std::chrono::milliseconds retry{20};  // a busy subscriber is tried again after this
  };

  // `afterCommit` defers a publish until the open transaction commits
  // (db::Database::afterCommit); `post` runs a task on the master's loop.
  EventBus(Clock& clock, Post post, AfterCommit afterCommit, Options opts);
  EventBus(Clock& clock, Post post, AfterCommit afterCommit)
      : EventBus(clock, std::move(post), std::move(afterCommit), Options{}) {}
  ~EventBus();

  void publish(Event e);
  // Masks `secrets` in every string of the data of events published from
  // now on (null: no masking).
  void setMasking(std::shared_ptr<const SecretStore> secrets) { secrets_ = std::move(secrets); }

  struct Subscription {
    std::uint64_t id = 0;
    std::uint64_t lastSeq = 0;        // the newest event published so far
    bool replayComplete = true;       // false: events after afterSeq were already forgotten
  };
  Subscription subscribe(Subscriber s);
  // An id no subscription has or will get from subscribe(): for one kept
  // outside the bus (clients sharing a group's subscriber, EventFanout),
  // so that every subscription a client sees has its own.
  std::uint64_t newId() { return nextId_++; }
  // Ends a subscription without calling `dropped`; safe from inside a
  // subscriber's own deliver().
  void unsubscribe(std::uint64_t id);
  // Tries again at once to deliver to a subscriber whose deliver() said
  // it was busy.
  void resume(std::uint64_t id);

  std::uint64_t lastSeq() const { return seq_; }
  std::size_t subscriberCount() const { return subs_.size(); }
  // Whether a subscriber could take an event of type `t` (relayed from
  // another master or not): what is worth reading rows for.
  bool anyoneMayWant(EventType t, bool fromOtherMaster) const;
  std::uint64_t droppedCount() const { return dropped_; }
  // Called after each subscribe, unsubscribe and drop (what anyoneMayWant
  // answers may have changed). One listener; empty to clear. It must not
  // subscribe or unsubscribe itself.
  void onSubscribersChanged(std::function<void()> fn) { subscribersChanged_ = std::move(fn); }

 private:
  void subscribersChanged() {
    if (subscribersChanged_) subscribersChanged_();
  }
  struct Sub;
  void release(Event e);
  void scheduleDrain();
  void drain();
  void deliverTo(const std::shared_ptr<Sub>& sub);
  // True if `sub` had its round less than `every` ago: its timer will
  // deliver when the interval is over.
  bool waitForItsRound(const std::shared_ptr<Sub>& sub);
  void startRetry(const std::shared_ptr<Sub>& sub, std::chrono::milliseconds after);
  void drop(std::uint64_t id, const std::string& reason);

  Clock& clock_;
  Post post_;
  AfterCommit afterCommit_;
  Options opts_;
  std::uint64_t seq_ = 0;
  std::uint64_t nextId_ = 1;
  std::uint64_t dropped_ = 0;
  bool drainPosted_ = false;
  std::map<std::uint64_t, std::shared_ptr<Sub>> subs_;
  std::deque<std::shared_ptr<const Event>> history_;
  std::shared_ptr<const SecretStore> secrets_;
  std::shared_ptr<bool> alive_;  // posted tasks check it: the bus may be gone
  std::function<void()> subscribersChanged_;
};

}  // namespace bb
