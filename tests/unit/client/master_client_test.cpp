// MasterClient against an in-process master: a real Listener and the real
// ServerLogin on loopback, answering Requests from a handler per test.
#include "client/master_client.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/executor_work_guard.hpp>

#include <atomic>
#include <future>
#include <thread>

#include "client/client_error.hpp"
#include "common/connection.hpp"
#include "common/event_loop.hpp"
#include "common/login.hpp"
#include "common/scram.hpp"

namespace bb::client {
namespace {

namespace asio = boost::asio;

// Answers one Request body; returns the Response body (without the id), or
// nullopt to never answer.
using RequestHandler = std::function<std::optional<Json>(const Json& request)>;

class MasterClientFakeMaster {
 public:
  explicit MasterClientFakeMaster(RequestHandler handler)
      : handler_(std::move(handler)),
        verifier_(makeScramVerifier("secret", kScramMinIterations)),
        work_(asio::make_work_guard(io_)) {
    listener_ = std::make_unique<Listener>(io_, "127.0.0.1", 0, ConnectionOptions{},
                                           [this](std::shared_ptr<Connection> c) { onAccept(c); });
    thread_ = std::thread([this] { io_.run(); });
  }
  ~MasterClientFakeMaster() {
    std::promise<void> done;
    postTo(io_, [&] {
      listener_->close();
      for (auto& c : conns_) c->close("test over");
      conns_.clear();
      done.set_value();
    });
    done.get_future().wait();
    work_.reset();
    io_.stop();
    thread_.join();
    listener_.reset();
  }
  std::uint16_t port() const { return listener_->port(); }
  std::atomic<int> requests{0};

 private:
  void onAccept(std::shared_ptr<Connection> c) {
    conns_.push_back(c);
    auto login = std::make_shared<ServerLogin>(
        [this](const std::string& role, const std::string& name) -> std::optional<std::string> {
          if (role == "client" && name == "alice") return verifier_;
          return std::nullopt;
        },
        Json{{"master", "fake"}, {"heartbeat_interval_ms", 10000},
             {"heartbeat_timeout_ms", 30000}, {"max_frame", 1 << 20}});
    auto loggedIn = std::make_shared<bool>(false);
    std::weak_ptr<Connection> weak = c;
    c->start(
        [this, weak, login, loggedIn](Message&& m) {
          auto conn = weak.lock();
          if (!conn || m.type == MsgType::Heartbeat) return;
          if (!*loggedIn) {
            auto step = login->onMessage(m);
            if (step.hasReply) conn->send(step.reply);
            if (step.kind == ServerLogin::Step::Done) *loggedIn = true;
            if (step.kind == ServerLogin::Step::Failed) conn->close(step.error);
            return;
          }
          if (m.type != MsgType::Request) return;
          ++requests;
          auto answer = handler_(m.body);
          if (!answer) return;
          Json body = *answer;
          body["id"] = m.body["id"];
          conn->send(MsgType::Response, body);
        },
        [](const std::string&) {});
  }

  RequestHandler handler_;
  std::string verifier_;
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::unique_ptr<Listener> listener_;
  std::vector<std::shared_ptr<Connection>> conns_;
  std::thread thread_;
};

MasterAddress local(std::uint16_t port) { return MasterAddress{"127.0.0.1", port}; }

// The fake master listens on plain TCP: say so (TLS is the default).
MasterClientOptions plain() {
  MasterClientOptions o;
  o.trust.tls = false;
  return o;
}

TEST(MasterClient, LogsInAndGetsResult) {
  MasterClientFakeMaster master([](const Json& req) -> std::optional<Json> {
    return Json{{"ok", true},
                {"result", {{"method", req["method"]}, {"echo", req["params"]}}}};
  });
  MasterClient client(local(master.port()), Credentials{"alice", "secret"}, plain());
  const Json r = client.call("status", Json{{"limit", 3}});
  EXPECT_EQ(r["method"], "status");
  EXPECT_EQ(r["echo"], (Json{{"limit", 3}}));
  EXPECT_EQ(client.masterName(), "fake");
  // A second request on the same session gets its own answer.
  EXPECT_EQ(client.call("log", Json{{"log_id", 1}})["method"], "log");
  EXPECT_EQ(master.requests.load(), 2);
}

TEST(MasterClient, WrongPasswordIsRefused) {
  MasterClientFakeMaster master([](const Json&) { return Json{{"ok", true}, {"result", Json::object()}}; });
  MasterClient client(local(master.port()), Credentials{"alice", "wrong"}, plain());
  try {
    client.connect();
    FAIL() << "expected ConnectError";
  } catch (const ConnectError& e) {
    EXPECT_NE(std::string(e.what()).find("login refused by master: auth_failed"),
              std::string::npos)
        << e.what();
  }
  EXPECT_EQ(master.requests.load(), 0);
}

TEST(MasterClient, UnknownUserIsRefusedTheSameWay) {
  MasterClientFakeMaster master([](const Json&) { return Json{{"ok", true}, {"result", Json::object()}}; });
  MasterClient client(local(master.port()), Credentials{"mallory", "secret"}, plain());
  EXPECT_THROW(client.connect(), ConnectError);
}

TEST(MasterClient, ErrorResponseBecomesMasterError) {
  MasterClientFakeMaster master([](const Json&) -> std::optional<Json> {
    return Json{{"ok", false},
                {"error",
                 {{"code", "not_permitted"},
                  {"message", "user 'alice' may not force"},
                  {"details", {"allowed: status"}}}}};
  });
  MasterClient client(local(master.port()), Credentials{"alice", "secret"}, plain());
  try {
    client.call("force", Json::object());
    FAIL() << "expected MasterError";
  } catch (const MasterError& e) {
    EXPECT_EQ(e.code(), "not_permitted");
    EXPECT_EQ(e.message(), "user 'alice' may not force");
    EXPECT_EQ(e.details(), (std::vector<std::string>{"allowed: status"}));
  }
}

TEST(MasterClient, UnansweredRequestTimesOut) {
  MasterClientFakeMaster master([](const Json&) -> std::optional<Json> { return std::nullopt; });
  MasterClientOptions opts = plain();
  opts.requestTimeout = std::chrono::milliseconds(200);
  MasterClient client(local(master.port()), Credentials{"alice", "secret"}, opts);
  try {
    client.call("status", Json::object());
    FAIL() << "expected ConnectError";
  } catch (const ConnectError& e) {
    EXPECT_EQ(std::string(e.what()), "request timed out after 0.2 s");
  }
}

TEST(MasterClient, ConnectionRefused) {
  // A port that was free a moment ago: bind, read, close.
  std::uint16_t port = 0;
  {
    asio::io_context io;
    Listener l(io, "127.0.0.1", 0, ConnectionOptions{}, [](std::shared_ptr<Connection>) {});
    port = l.port();
  }
  MasterClient client(local(port), Credentials{"alice", "secret"}, plain());
  try {
    client.connect();
    FAIL() << "expected ConnectError";
  } catch (const ConnectError& e) {
    EXPECT_EQ(std::string(e.what()),
              "cannot connect to 127.0.0.1:" + std::to_string(port) + ": connection refused");
  }
}

TEST(MasterClient, FormatSeconds) {
  EXPECT_EQ(formatSeconds(std::chrono::milliseconds(30000)), "30 s");
  EXPECT_EQ(formatSeconds(std::chrono::milliseconds(500)), "0.5 s");
  EXPECT_EQ(formatSeconds(std::chrono::milliseconds(1250)), "1.25 s");
}

}  // namespace
}  // namespace bb::client
