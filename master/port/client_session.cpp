#include "master/port/client_session.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "master/events/event_bus.hpp"
#include "master/port/event_fanout.hpp"
#include "master/status/rpc_handler.hpp"

namespace bb {

ClientSession::ClientSession(std::shared_ptr<Connection> conn, std::string user, RpcHandler& rpc,
                             EventBus& events, EventFanout& fanout, Clock& clock)
    : conn_(std::move(conn)),
      user_(std::move(user)),
      peer_(conn_->peer()),
      rpc_(rpc),
      events_(events),
      fanout_(fanout),
      clock_(clock) {}

ClientSession::~ClientSession() { endSubscriptions(); }

void ClientSession::start(std::function<void(ClientSession&)> onClosed) {
  std::weak_ptr<ClientSession> weak = shared_from_this();
  conn_->start(
      [weak](Message&& msg) {
        if (auto self = weak.lock()) self->onMessage(std::move(msg));
      },
      [weak, onClosed = std::move(onClosed)](const std::string& reason) {
        auto self = weak.lock();
        if (!self) return;
        spdlog::info("client {} from {} disconnected: {}", self->user_, self->peer_, reason);
        self->endSubscriptions();
        onClosed(*self);
      });
}

void ClientSession::endSubscriptions() {
  for (const auto& [id, sub] : subs_) {
    if (sub.shared)
      fanout_.leave(id);
    else
      events_.unsubscribe(sub.busId);
  }
  subs_.clear();
}

void ClientSession::close(const std::string& code, const std::string& message) {
  conn_->sendErrorAndClose(code, message);
}

void ClientSession::fail(const std::string& code, const std::string& why) {
  spdlog::warn("client {} from {}: {}; closing", user_, peer_, why);
  conn_->sendErrorAndClose(code, why);
}

Json ClientSession::subscribe(const Json& params) {
  EventFilter filter;
  try {
    filter = EventFilter::fromJson(params);
  } catch (const std::invalid_argument& e) {
    throw RpcError("bad_request", e.what());
  }
  std::optional<std::uint64_t> after;
  if (auto it = params.find("after_seq"); it != params.end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<std::int64_t>() < 0)
      throw RpcError("bad_request", "after_seq must be 0 or more");
    after = it->get<std::uint64_t>();
  }
  // Compression is for shared frames: a subscription of its own (one that
  // replays, or follows a change) gets its events as they are.
  bool zstd = false;
  if (auto it = params.find("compression"); it != params.end() && !it->is_null()) {
    if (!it->is_string() || it->get<std::string>() != "zstd")
      throw RpcError("bad_request", "compression must be \"zstd\" (or absent), got " + it->dump());
    zstd = true;
  }
  if (subs_.size() >= kMaxSubscriptions)
    throw RpcError("rejected", "a client may hold at most " + std::to_string(kMaxSubscriptions) +
                                   " subscriptions; unsubscribe first");
  const std::uint64_t id = events_.newId();
  std::uint64_t seq = 0;
  bool complete = true;
  if (!after && EventFanout::shareable(filter)) {
    subs_[id] = Subscription{filter, true, 0, {}};
    std::weak_ptr<ClientSession> weak = shared_from_this();
    EventFanout::Member m;
    m.subscriptionId = id;
    m.conn = conn_;
    m.zstd = zstd;
    // Its connection fell behind the group's frames: it follows on its
    // own from the last event it was sent (the bus replays the rest).
    m.left = [weak, id](std::uint64_t lastSeq) {
      auto self = weak.lock();
      if (!self) return;
      auto it = self->subs_.find(id);
      if (it == self->subs_.end()) return;
      it->second.shared = false;
      spdlog::info("client {} from {}: subscription {} fell behind the frames shared with other "
                   "clients; it goes on by itself from event {}",
                   self->user_, self->peer_, id, lastSeq);
      if (!self->subscribeOwn(id, it->second.filter, lastSeq)) {
        self->events_.unsubscribe(it->second.busId);
        self->dropped(id, "it fell behind by more events than the master keeps");
      }
    };
    m.dropped = [weak, id](const std::string& why) {
      if (auto self = weak.lock()) self->dropped(id, why);
    };
    seq = fanout_.join(filter, std::move(m));
  } else {
    subs_[id] = Subscription{filter, false, 0, {}};
    seq = events_.lastSeq();
    complete = subscribeOwn(id, filter, after);
  }
  spdlog::info("client {} from {} subscribed to events ({}), subscription {}{}", user_, peer_,
               filter.describe(), id,
               subs_[id].shared ? (zstd ? ", sharing frames, compressed" : ", sharing frames") : "");
  return Json{{"subscription_id", id}, {"seq", seq}, {"replay_complete", complete}};
}

bool ClientSession::subscribeOwn(std::uint64_t id, const EventFilter& filter,
                                 std::optional<std::uint64_t> after) {
  Subscriber s;
  s.name = "client " + user_ + " from " + peer_;
  s.filter = filter;
  s.maxQueue = kMaxQueuedEvents;
  s.afterSeq = after;
  std::weak_ptr<ClientSession> weak = shared_from_this();
  s.deliverBatch = [weak, id](std::span<const std::shared_ptr<const Event>> evs) {
    auto self = weak.lock();
    return self ? self->deliver(id, evs) : evs.size();
  };
  s.flush = [weak, id] {
    if (auto self = weak.lock()) self->flush(id);
  };
  s.dropped = [weak, id](const std::string& why) {
    if (auto self = weak.lock()) self->dropped(id, why);
  };
  Subscription& sub = subs_.at(id);
  sub.batch.head = eventsFrameHead(id);
  const auto r = events_.subscribe(std::move(s));
  sub.busId = r.id;
  return r.replayComplete;
}

void ClientSession::dropped(std::uint64_t id, const std::string& why) {
  if (!subs_.erase(id)) return;
  if (conn_->isOpen())
    conn_->send(MsgType::Events, Json{{"subscription_id", id}, {"events", Json::array()}, {"dropped", why}});
}

Json ClientSession::unsubscribe(const Json& params) {
  const std::int64_t id = getInt(params, "subscription_id");
  auto it = subs_.find(static_cast<std::uint64_t>(id));
  if (id < 1 || it == subs_.end())
    throw RpcError("not_found", "no subscription " + std::to_string(id) + " on this connection");
  if (it->second.shared)
    fanout_.leave(it->first);
  else
    events_.unsubscribe(it->second.busId);
  subs_.erase(it);
  return Json{{"subscription_id", id}, {"unsubscribed", true}};
}

std::size_t ClientSession::deliver(std::uint64_t sub, std::span<const std::shared_ptr<const Event>> evs) {
  auto it = subs_.find(sub);
  if (it == subs_.end() || !conn_->isOpen()) return evs.size();  // gone: let them drain away
  if (conn_->queuedBytes() > kBusyBytes) return 0;                 // backed up: they stay queued
  Batch& batch = it->second.batch;
  std::size_t took = 0;
  for (const auto& e : evs) {
    const auto& packed = e->packed();
    if (batch.frame.empty()) batch.frame.resize(batch.room());
    batch.frame.insert(batch.frame.end(), packed.begin(), packed.end());
    ++took;
    if (++batch.count < kMaxBatch && batch.frame.size() < kMaxBatchBytes) continue;
    // Only a send changes what the connection holds.
    sendBatch(sub);
    if (!conn_->isOpen()) return evs.size();       // closed meanwhile: let them drain away
    if (conn_->queuedBytes() > kBusyBytes) break;  // backed up: the rest stay queued
  }
  return took;
}

void ClientSession::flush(std::uint64_t sub) {
  if (flushTimer_ && flushTimer_->pending()) return;  // a paced send is due anyway
  const auto wait = pacer_.wait(clock_.now());
  if (!wait) {
    sendBatch(sub);
    return;
  }
  if (!flushTimer_) flushTimer_ = clock_.makeTimer();
  std::weak_ptr<ClientSession> weak = shared_from_this();
  flushTimer_->start(*wait, [weak] {
                       auto self = weak.lock();
                       if (!self) return;
                       std::vector<std::uint64_t> ids;
                       for (const auto& [id, sub] : self->subs_)
                         if (!sub.shared) ids.push_back(id);
                       for (auto id : ids) self->sendBatch(id);
                     });
}

void ClientSession::sendBatch(std::uint64_t sub) {
  auto it = subs_.find(sub);
  if (it == subs_.end() || it->second.batch.count == 0 || !conn_->isOpen()) return;
  Batch& batch = it->second.batch;
  // The frame header and the map head go into the room kept in front of
  // the events; the array header is always the 16-bit form (any length up
  // to kMaxBatch), so the room is the same whatever the count.
  std::uint8_t* p = batch.frame.data();
  encodeFrameHeader(static_cast<std::uint16_t>(MsgType::Events), batch.frame.size() - kFrameHeaderSize, p);
  p = std::copy(batch.head.begin(), batch.head.end(), p + kFrameHeaderSize);
  p[0] = 0xdc;
  p[1] = static_cast<std::uint8_t>(batch.count >> 8);
  p[2] = static_cast<std::uint8_t>(batch.count & 0xff);
  // sendFrame takes the bytes (a close it causes is posted, so `batch`
  // stays valid) and leaves a buffer the connection is done with, kept for
  // the next batch (growing one from nothing each time was a tenth of the
  // cost of a watcher), unless it grew past kKeptBatchBytes.
  conn_->sendFrame(batch.frame);
  batch.count = 0;
  if (batch.frame.capacity() > kKeptBatchBytes) batch.frame.shrink_to_fit();
  pacer_.sent();
}

void ClientSession::onMessage(Message&& msg) {
  if (msg.type == MsgType::Heartbeat) return;
  if (msg.type != MsgType::Request) {
    fail("protocol_error", "clients may only send Request frames after login, not " +
                               std::string(toString(msg.type)));
    return;
  }
  Json resp;
  std::int64_t id = 0;
  // Error messages may quote what the client sent (a builder name, a
  // method): they go back escaped, like everything a peer sent.
  try {
    id = getInt(msg.body, "id");
    const std::string method = getString(msg.body, "method");
    Json params = msg.body.contains("params") ? msg.body["params"] : Json::object();
    Json result;
    if (method == "subscribe" || method == "unsubscribe") {
      rpc_.authorize(user_, method);
      if (!params.is_object()) throw RpcError("bad_request", "params must be a map");
      result = method == "subscribe" ? subscribe(params) : unsubscribe(params);
    } else {
      result = rpc_.call(user_, method, params);
    }
    resp = Json{{"id", id}, {"ok", true}, {"result", std::move(result)}};
  } catch (const ProtocolError& e) {
    resp = Json{{"id", id}, {"ok", false},
                {"error", {{"code", "bad_request"}, {"message", peerText(e.what(), 2000)}, {"details", Json::array()}}}};
  } catch (const RpcError& e) {
    spdlog::info("client {}: request refused: {}: {}", user_, e.code, peerText(e.what(), 500));
    resp = Json{{"id", id}, {"ok", false},
                {"error", {{"code", e.code}, {"message", peerText(e.what(), 2000)}, {"details", e.details}}}};
  } catch (const std::exception& e) {
    spdlog::error("client {}: request failed: {}", user_, peerText(e.what(), 500));
    resp = Json{{"id", id}, {"ok", false},
                {"error", {{"code", "internal"}, {"message", peerText(e.what(), 2000)}, {"details", Json::array()}}}};
  }
  conn_->send(MsgType::Response, std::move(resp));
}

}  // namespace bb
