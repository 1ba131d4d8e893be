#pragma once
// One logged-in `buildbot` client connection: decodes each Request frame,
// makes one call into the RpcHandler, and encodes the Response. A request
// that throws gets an error Response; a frame that breaks the protocol
// closes the connection with the reason logged.
//
// The session also holds the client's event subscriptions (`subscribe` /
// `unsubscribe`): matching events are pushed as Events frames, batched.
// A subscription without `after_seq` whose filter others share joins the
// EventFanout's group for that filter: the group encodes each frame's
// events once for all its clients (event_fanout.hpp). Others (a replay
// from `after_seq`, a change followed) are the session's own bus
// subscribers, as is a shared one whose connection fell behind.
// A client that reads too slowly is not allowed to grow the master's
// memory: while its write queue holds more than kBusyBytes the bus keeps
// its events queued, and when that queue is full the subscription is
// dropped and the client told why. Frames are paced by a token bucket:
// up to kFrameBurst frames go out at once (a client following one build
// gets every event without delay), then at most kFramesPerSecond, with
// the events in between sent together: a busy master sends a client that
// watches everything ~10 frames a second (one per 100 ms), however many
// events it publishes. Each frame is a TLS record and a write, so the
// frame rate, not the event count, is most of what a watcher costs the
// master (docs/performance.md, "After the Seams change").
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/connection.hpp"
#include "common/event_loop.hpp"
#include "common/frame.hpp"
#include "master/events/event_filter.hpp"
#include "master/port/event_fanout.hpp"

namespace bb {

class EventBus;
class RpcHandler;
struct Event;

class ClientSession : public std::enable_shared_from_this<ClientSession> {
 public:
  // As a group's frames are (event_fanout.hpp).
  static constexpr std::size_t kBusyBytes = EventFanout::kBusyBytes;
  static constexpr std::size_t kMaxBatch = kEventsPerFrame;
  static constexpr std::size_t kMaxBatchBytes = kEventFrameBytes;
  static constexpr double kFrameBurst = EventFanout::kFrameBurst;
  static constexpr double kFramesPerSecond = EventFanout::kFramesPerSecond;
  static constexpr std::size_t kMaxQueuedEvents = 10000;
  static constexpr std::size_t kKeptBatchBytes = 64 * 1024;
  static constexpr std::size_t kMaxSubscriptions = 16;

  ClientSession(std::shared_ptr<Connection> conn, std::string user, RpcHandler& rpc,
                EventBus& events, EventFanout& fanout, Clock& clock);
  ~ClientSession();

  // Starts reading requests; `onClosed` runs once when the connection ends.
  void start(std::function<void(ClientSession&)> onClosed);
  // Sends an Error frame and closes (shutdown).
  void close(const std::string& code, const std::string& message);
  const std::string& user() const { return user_; }

 private:
  void onMessage(Message&& msg);
  // `subscribe` and `unsubscribe` are answered here (they need the
  // connection); every other method goes to the RpcHandler.
  Json subscribe(const Json& params);
  Json unsubscribe(const Json& params);
  // Subscription `id` as a bus subscriber of its own (after `after`, if
  // set); false if the bus no longer keeps every event after `after`.
  bool subscribeOwn(std::uint64_t id, const EventFilter& filter, std::optional<std::uint64_t> after);
  // Subscription `id` was dropped (why): forget it and tell the client.
  void dropped(std::uint64_t id, const std::string& why);
  // Adds the events to the subscription's batch (sending full batches);
  // returns how many it took: fewer when the connection is backed up.
  std::size_t deliver(std::uint64_t sub, std::span<const std::shared_ptr<const Event>> evs);
  // The bus delivered a round: send now if the bucket has a token, else
  // arm the timer for when it has one.
  void flush(std::uint64_t sub);
  void sendBatch(std::uint64_t sub);
  void endSubscriptions();
  // The one failure path: logs why and closes the connection.
  void fail(const std::string& code, const std::string& why);

  std::shared_ptr<Connection> conn_;
  std::string user_;
  std::string peer_;
  RpcHandler& rpc_;
  EventBus& events_;
  EventFanout& fanout_;
  Clock& clock_;
  std::unique_ptr<Timer> flushTimer_;
  FramePacer pacer_{kFrameBurst, kFramesPerSecond};
  // Events not yet sent, per subscription, built in place as the Events
  // frame that will carry them: room for the frame header and the map head
  // ({"subscription_id": id, "events": array-16 header}), then the events'
  // MessagePack encodings (each made once per event, shared by every
  // client) back to back. The frame's bytes go to the connection without
  // another copy (Connection::sendFrame), which hands back a buffer to
  // fill next.
  struct Batch {
    std::vector<std::uint8_t> head;   // the map head up to the array header: made once
    std::vector<std::uint8_t> frame;  // empty, or the frame being filled
    std::size_t count = 0;
    std::size_t room() const { return kFrameHeaderSize + head.size() + 3; }
  };
  struct Subscription {
    EventFilter filter;
    bool shared = false;      // a member of an EventFanout group
    std::uint64_t busId = 0;  // else its own bus subscriber
    Batch batch;              // its own: the frame being filled
  };
  std::map<std::uint64_t, Subscription> subs_;  // by the id the client knows
};

}  // namespace bb
