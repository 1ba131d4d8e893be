#include "master/port/client_session.hpp"

#include <spdlog/spdlog.h>

#include "master/status/rpc_handler.hpp"

namespace bb {

ClientSession::ClientSession(std::shared_ptr<Connection> conn, std::string user, RpcHandler& rpc)
    : conn_(std::move(conn)), user_(std::move(user)), peer_(conn_->peer()), rpc_(rpc) {}

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
        onClosed(*self);
      });
}

void ClientSession::close(const std::string& code, const std::string& message) {
  conn_->sendErrorAndClose(code, message);
}

void ClientSession::fail(const std::string& code, const std::string& why) {
  spdlog::warn("client {} from {}: {}; closing", user_, peer_, why);
  conn_->sendErrorAndClose(code, why);
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
  try {
    id = getInt(msg.body, "id");
    const std::string method = getString(msg.body, "method");
    Json params = msg.body.contains("params") ? msg.body["params"] : Json::object();
    resp = Json{{"id", id}, {"ok", true}, {"result", rpc_.call(user_, method, params)}};
  } catch (const ProtocolError& e) {
    resp = Json{{"id", id}, {"ok", false},
                {"error", {{"code", "bad_request"}, {"message", e.what()}, {"details", Json::array()}}}};
  } catch (const RpcError& e) {
    spdlog::info("client {}: request refused: {}: {}", user_, e.code, e.what());
    resp = Json{{"id", id}, {"ok", false},
                {"error", {{"code", e.code}, {"message", e.what()}, {"details", e.details}}}};
  } catch (const std::exception& e) {
    spdlog::error("client {}: request failed: {}", user_, e.what());
    resp = Json{{"id", id}, {"ok", false},
                {"error", {{"code", "internal"}, {"message", e.what()}, {"details", Json::array()}}}};
  }
  conn_->send(MsgType::Response, std::move(resp));
}

}  // namespace bb
