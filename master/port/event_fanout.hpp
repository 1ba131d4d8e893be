#pragma once
// Client subscriptions that watch the same thing share their events'
// frames. A hundred `buildbot watch` clients watching everything used to be
// a hundred bus subscribers: each event was queued a hundred times and its
// bytes copied into a hundred batches, on the master's one thread, which
// the dispatch of builds needs (docs/performance.md, "Event subscribers").
// Here they are one bus subscriber (a group per filter): each event's
// encoding is appended once to the group's frame body, and when the body
// is sent every member's connection gets its own small head (its
// subscription id, the count) and the same body, shared, not copied
// (Connection::sendShared).
//
// Contract:
//  - A member gets every event its filter matches that was published
//    after it joined, in order, each once, in Events frames of at most
//    kMaxBatch events; a group's frames are paced as a session paces its
//    own: up to kFrameBurst at once, then kFramesPerSecond.
//  - A member whose connection is backed up (more than kBusyBytes waiting)
//    when a frame is due leaves the group: its `left` callback gets the
//    seq of the last event it was sent, and its session follows it with a
//    subscription of its own from there (the bus replays what it missed).
//    A frame is never queued behind a backlog.
//  - Members that asked for compression get the group's frames with the
//    events compressed (once per frame, for all of them), except a frame
//    of which they get only the end (they joined while it was filling).
//  - Filters that follow a change keep state as events pass (the BuildSets
//    made for it); they are not shared (shareable() is false).
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/event_loop.hpp"
#include "master/events/event_filter.hpp"

namespace bb {

class Connection;
class EventBus;

// The token bucket that paces a subscription's Events frames: up to
// `burst` at once, then `perSecond` (a session's own subscriptions share
// one, a group has one).
struct FramePacer {
  double burst, perSecond;
  double tokens = burst;
  SteadyTime refilled{};
  // Refills for the time since the last call: nullopt if a frame may go
  // now, else how long until one may.
  std::optional<std::chrono::milliseconds> wait(SteadyTime now) {
    tokens = std::min(burst, tokens + std::chrono::duration<double>(now - refilled).count() * perSecond);
    refilled = now;
    if (tokens >= 1) return std::nullopt;
    return std::chrono::milliseconds(1 + static_cast<int>((1 - tokens) * 1000.0 / perSecond));
  }
  void sent() { tokens -= 1; }
};

// An Events frame holds at most kEventsPerFrame events, and no more once
// its events reach kEventFrameBytes (docs/protocol.md). Bigger frames
// cost the master fewer sends per event: with a hundred watchers, the
// sends were most of what watching cost it (docs/performance.md).
inline constexpr std::size_t kEventsPerFrame = 1000;  // at most 0xffff: an array-16 header
inline constexpr std::size_t kEventFrameBytes = 256 * 1024;

// The head of an Events frame's payload up to its events array:
// {"subscription_id": id, "events": (MessagePack, a map of two).
std::vector<std::uint8_t> eventsFrameHead(std::uint64_t subscriptionId);

class EventFanout {
 public:
  static constexpr std::size_t kBusyBytes = 1u << 20;
  static constexpr std::size_t kMaxBatch = kEventsPerFrame;
  static constexpr std::size_t kMaxBatchBytes = kEventFrameBytes;
  static constexpr double kFrameBurst = 20;
  static constexpr double kFramesPerSecond = 10;

  EventFanout(EventBus& bus, Clock& clock);
  ~EventFanout();
  EventFanout(const EventFanout&) = delete;
  EventFanout& operator=(const EventFanout&) = delete;

  // Whether subscriptions with this filter can share frames.
  static bool shareable(const EventFilter& f);

  struct Member {
    std::uint64_t subscriptionId = 0;  // the client's, in each frame's head
    std::weak_ptr<Connection> conn;
    // It asked for compression: a frame of the whole body goes to it as
    // {subscription_id, count, events_zstd} (common/events_zstd.hpp), the
    // body compressed once for every such member.
    bool zstd = false;
    // Its connection was backed up when a frame was due: it is no longer
    // a member; `lastSeq` is the last event it was sent (or, if none, the
    // newest published when it joined).
    std::function<void(std::uint64_t lastSeq)> left;
    // The group's bus subscriber was dropped (why): so is every member.
    std::function<void(const std::string& why)> dropped;
  };
  // Joins the group for `filter` (shareable), made on first use. Returns
  // the bus's newest seq: the member gets the events after it.
  std::uint64_t join(const EventFilter& filter, Member m);
  // Leaves; no callback runs. Unknown ids are ignored.
  void leave(std::uint64_t subscriptionId);

  std::size_t groupCount() const { return groups_.size(); }

 private:
  struct Group;
  // Adds the events to the group's body, sending each body that is full.
  void append(const std::shared_ptr<Group>& g, std::span<const std::shared_ptr<const Event>> evs);
  void send(const std::shared_ptr<Group>& g);
  void flush(const std::shared_ptr<Group>& g);
  void dropGroup(const std::string& key, const std::string& why);

  EventBus& bus_;
  Clock& clock_;
  std::map<std::string, std::shared_ptr<Group>> groups_;       // by filter key
  std::map<std::uint64_t, std::string> memberGroup_;            // subscription id -> key
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // callbacks check it
};

}  // namespace bb
