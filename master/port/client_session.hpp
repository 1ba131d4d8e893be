#pragma once
// One logged-in `buildbot` client connection: decodes each Request frame,
// makes one call into the RpcHandler, and encodes the Response. A request
// that throws gets an error Response; a frame that breaks the protocol
// closes the connection with the reason logged.
//
// The session also holds the client's event subscriptions (`subscribe` /
// `unsubscribe`): matching events are pushed as Events frames, batched.
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
#include <span>
#include <string>
#include <vector>

#include "common/connection.hpp"
#include "common/event_loop.hpp"

namespace bb {

class EventBus;
class RpcHandler;
struct Event;

class ClientSession : public std::enable_shared_from_this<ClientSession> {
 public:
  static constexpr std::size_t kBusyBytes = 1u << 20;
  static constexpr std::size_t kMaxQueuedEvents = 10000;
  static constexpr std::size_t kMaxBatch = 200;
  static constexpr std::size_t kMaxBatchBytes = 256 * 1024;
  static constexpr std::size_t kKeptBatchBytes = 64 * 1024;
  static constexpr std::size_t kMaxSubscriptions = 16;
  static constexpr double kFrameBurst = 20;
  static constexpr double kFramesPerSecond = 10;

  ClientSession(std::shared_ptr<Connection> conn, std::string user, RpcHandler& rpc,
                EventBus& events, Clock& clock);
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
  Clock& clock_;
  std::unique_ptr<Timer> flushTimer_;
  double tokens_ = kFrameBurst;
  SteadyTime refilled_{};
  // Events not yet sent, per subscription: their MessagePack encodings
  // (each made once per event, shared by every client) back to back.
  // Room for the frame's head in front of a batch's events: a map header,
  // "subscription_id" and a uint64, "events" and an array-16 header.
  static constexpr std::size_t kHeadRoom = 1 + 16 + 9 + 7 + 3;
  struct Batch {
    std::vector<std::uint8_t> packed;
    std::size_t count = 0;
  };
  std::map<std::uint64_t, Batch> batches_;
};

}  // namespace bb
