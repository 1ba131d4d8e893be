#include "master/port/client_session.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "master/events/event_bus.hpp"
#include "master/status/rpc_handler.hpp"

namespace bb {

ClientSession::ClientSession(std::shared_ptr<Connection> conn, std::string user, RpcHandler& rpc,
                             EventBus& events, Clock& clock)
    : conn_(std::move(conn)),
      user_(std::move(user)),
      peer_(conn_->peer()),
      rpc_(rpc),
      events_(events),
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
  for (const auto& [id, batch] : batches_) events_.unsubscribe(id);
  batches_.clear();
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
  if (batches_.size() >= kMaxSubscriptions)
    throw RpcError("rejected", "a client may hold at most " + std::to_string(kMaxSubscriptions) +
                                   " subscriptions; unsubscribe first");
  Subscriber s;
  s.name = "client " + user_ + " from " + peer_;
  s.filter = filter;
  s.maxQueue = kMaxQueuedEvents;
  s.afterSeq = after;
  // The subscription's id is known only once subscribe() returns; events
  // are delivered later (posted), so `id` is set by then.
  auto id = std::make_shared<std::uint64_t>(0);
  std::weak_ptr<ClientSession> weak = shared_from_this();
  s.deliverBatch = [weak, id](std::span<const std::shared_ptr<const Event>> evs) {
    auto self = weak.lock();
    return self ? self->deliver(*id, evs) : evs.size();
  };
  s.flush = [weak, id] {
    if (auto self = weak.lock()) self->flush(*id);
  };
  s.dropped = [weak, id](const std::string& why) {
    auto self = weak.lock();
    if (!self || !self->batches_.erase(*id)) return;
    if (self->conn_->isOpen())
      self->conn_->send(MsgType::Events, Json{{"subscription_id", *id},
                                              {"events", Json::array()},
                                              {"dropped", why}});
  };
  const auto sub = events_.subscribe(std::move(s));
  *id = sub.id;
  batches_[sub.id] = Batch{};
  spdlog::info("client {} from {} subscribed to events ({}), subscription {}", user_, peer_,
               filter.describe(), sub.id);
  return Json{{"subscription_id", sub.id}, {"seq", sub.lastSeq},
              {"replay_complete", sub.replayComplete}};
}

Json ClientSession::unsubscribe(const Json& params) {
  const std::int64_t id = getInt(params, "subscription_id");
  auto it = batches_.find(static_cast<std::uint64_t>(id));
  if (id < 1 || it == batches_.end())
    throw RpcError("not_found", "no subscription " + std::to_string(id) + " on this connection");
  events_.unsubscribe(it->first);
  batches_.erase(it);
  return Json{{"subscription_id", id}, {"unsubscribed", true}};
}

std::size_t ClientSession::deliver(std::uint64_t sub, std::span<const std::shared_ptr<const Event>> evs) {
  auto it = batches_.find(sub);
  if (it == batches_.end() || !conn_->isOpen()) return evs.size();  // gone: let them drain away
  Batch& batch = it->second;
  std::size_t took = 0;
  for (const auto& e : evs) {
    if (!conn_->isOpen()) return evs.size();       // closed meanwhile: let them drain away
    if (conn_->queuedBytes() > kBusyBytes) break;  // backed up: the rest stay queued
    const auto& packed = e->packed();
    if (batch.packed.empty()) batch.packed.resize(kHeadRoom);
    batch.packed.insert(batch.packed.end(), packed.begin(), packed.end());
    ++took;
    if (++batch.count >= kMaxBatch || batch.packed.size() >= kMaxBatchBytes) sendBatch(sub);
  }
  return took;
}

void ClientSession::flush(std::uint64_t sub) {
  const SteadyTime now = clock_.now();
  tokens_ = std::min(kFrameBurst,
                     tokens_ + std::chrono::duration<double>(now - refilled_).count() * kFramesPerSecond);
  refilled_ = now;
  if (flushTimer_ && flushTimer_->pending()) return;  // a paced send is due anyway
  if (tokens_ >= 1) {
    sendBatch(sub);
    return;
  }
  if (!flushTimer_) flushTimer_ = clock_.makeTimer();
  std::weak_ptr<ClientSession> weak = shared_from_this();
  const auto wait = std::chrono::milliseconds(
      1 + static_cast<int>((1 - tokens_) * 1000.0 / kFramesPerSecond));
  flushTimer_->start(wait, [weak] {
                       auto self = weak.lock();
                       if (!self) return;
                       std::vector<std::uint64_t> ids;
                       for (const auto& [id, b] : self->batches_) ids.push_back(id);
                       for (auto id : ids) self->sendBatch(id);
                     });
}

void ClientSession::sendBatch(std::uint64_t sub) {
  auto it = batches_.find(sub);
  if (it == batches_.end() || it->second.count == 0 || !conn_->isOpen()) return;
  Batch& batch = it->second;
  // {"subscription_id": sub, "events": [...]} around the events'
  // encodings as they are: the head goes into the room kept in front of
  // them (kHeadRoom), so the events are not copied again.
  std::vector<std::uint8_t> head = Json::to_msgpack(Json{{"subscription_id", sub}});
  head[0] = 0x82;  // fixmap of 1 -> fixmap of 2
  head.push_back(0xa6);
  for (char c : std::string("events")) head.push_back(static_cast<std::uint8_t>(c));
  if (batch.count < 16) {
    head.push_back(static_cast<std::uint8_t>(0x90 | batch.count));
  } else {
    head.push_back(0xdc);  // array 16
    head.push_back(static_cast<std::uint8_t>(batch.count >> 8));
    head.push_back(static_cast<std::uint8_t>(batch.count & 0xff));
  }
  std::uint8_t* start = batch.packed.data() + (kHeadRoom - head.size());
  std::copy(head.begin(), head.end(), start);
  const std::size_t size = batch.packed.size() - (kHeadRoom - head.size());
  // sendPayload copies the frame into the connection's queue (and a close
  // it causes is posted, so `batch` stays valid): the buffer is kept for
  // the next batch (growing it again from nothing each time was a tenth of
  // the cost of a watcher), unless it grew past kKeptBatchBytes.
  conn_->sendPayload(MsgType::Events, start, size);
  batch.count = 0;
  batch.packed.clear();
  if (batch.packed.capacity() > kKeptBatchBytes) batch.packed.shrink_to_fit();
  tokens_ -= 1;
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
