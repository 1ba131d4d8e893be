// DbListener on PostgreSQL: its own libpq session, LISTEN on each channel,
// and the session's socket handed to an asio stream_descriptor that says
// when it is readable; then PQconsumeInput reads what came and PQnotifies
// hands out the notifications. asio holds a duplicate of libpq's socket,
// so neither closes the other's. The first connection blocks (the master
// is starting); reconnecting is non-blocking, on the loop.
#include <libpq-fe.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <spdlog/spdlog.h>

#include "master/db/db_error.hpp"
#include "master/db/db_listener.hpp"
#include "master/db/engine.hpp"

namespace bb::db {

namespace asio = boost::asio;

namespace {
constexpr auto kListenerRetry = std::chrono::seconds(1);
// How long one reconnect attempt may take (what connect_timeout is for the
// first, blocking connection).
constexpr auto kAttemptLimit = std::chrono::seconds(5);

std::string listenerFirstLine(const char* msg) {
  std::string s = msg ? msg : "";
  if (const auto nl = s.find('\n'); nl != std::string::npos) s.resize(nl);
  return s;
}
}  // namespace

struct DbListener::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::io_context& io, std::string url, std::vector<std::string> channels, OnNotify onNotify,
       std::function<void()> onReconnected)
      : io(io),
        url(std::move(url)),
        channels(std::move(channels)),
        onNotify(std::move(onNotify)),
        onReconnected(std::move(onReconnected)),
        retry(io),
        deadline(io) {}
  ~Impl() { disconnect(); }

  // A new session: the URL, the password as the master's own connection
  // gets it, and (for the blocking first connection) a timeout; null only
  // when out of memory.
  PGconn* open(bool blocking) {
    const std::string& password = serverPassword();
    std::vector<const char*> keys{"application_name", "dbname"};
    std::vector<const char*> values{"buildmaster-listener", url.c_str()};
    if (!password.empty()) {
      keys.push_back("password");
      values.push_back(password.c_str());
    }
    if (blocking) {
      keys.push_back("connect_timeout");
      values.push_back("5");
    }
    keys.push_back(nullptr);
    values.push_back(nullptr);
    return blocking ? PQconnectdbParams(keys.data(), values.data(), /*expand_dbname=*/1)
                    : PQconnectStartParams(keys.data(), values.data(), /*expand_dbname=*/1);
  }

  // The connected session's notices (the server's "terminating
  // connection" included) go to the log at debug level, not to stderr;
  // returns the query that LISTENs on every channel.
  std::string prepareListen() {
    PQsetNoticeProcessor(
        conn, [](void*, const char* msg) { spdlog::debug("postgresql listener: {}", listenerFirstLine(msg)); },
        nullptr);
    std::string sql;
    for (const auto& channel : channels) {
      char* quoted = PQescapeIdentifier(conn, channel.c_str(), channel.size());
      sql += "LISTEN " + std::string(quoted ? quoted : "\"\"") + ";";
      PQfreemem(quoted);
    }
    return sql;
  }

  // Connects and LISTENs, blocking; "" on success, else why not.
  std::string connect() {
    conn = open(/*blocking=*/true);
    if (conn == nullptr) return "out of memory";
    std::string why;
    if (PQstatus(conn) != CONNECTION_OK) {
      why = listenerFirstLine(PQerrorMessage(conn));
    } else {
      PGresult* r = PQexec(conn, prepareListen().c_str());
      if (PQresultStatus(r) != PGRES_COMMAND_OK) why = "LISTEN: " + listenerFirstLine(PQresultErrorMessage(r));
      PQclear(r);
      if (why.empty() && !watchSocket()) why = "cannot watch the session's socket";
    }
    if (!why.empty()) disconnect();
    return why;
  }

  void disconnect() {
    socket.reset();
    watchedFd = -1;
    if (conn) PQfinish(conn);
    conn = nullptr;
  }

  void doWait() {
    std::weak_ptr<Impl> weak = shared_from_this();
    socket->async_wait(asio::posix::stream_descriptor::wait_read,
                       [weak](const boost::system::error_code& ec) {
                         auto self = weak.lock();
                         if (!self || ec == asio::error::operation_aborted) return;
                         self->onReadable(ec);
                       });
  }

  void onReadable(const boost::system::error_code& ec) {
    if (ec || PQconsumeInput(conn) == 0) {
      lost(ec ? ec.message() : listenerFirstLine(PQerrorMessage(conn)));
      return;
    }
    // Taken off libpq first, then delivered: a callback never runs while
    // libpq's list is half read.
    std::vector<std::pair<std::string, std::string>> got;
    while (PGnotify* n = PQnotifies(conn)) {
      got.emplace_back(n->relname, n->extra ? n->extra : "");
      PQfreemem(n);
    }
    for (const auto& [channel, payload] : got) {
      ++heard;
      try {
        onNotify(channel, payload);
      } catch (const std::exception& e) {
        spdlog::error("database notification on {} ('{}'): {}", channel, payload, e.what());
      }
    }
    if (PQstatus(conn) != CONNECTION_OK) {
      lost(listenerFirstLine(PQerrorMessage(conn)));
      return;
    }
    doWait();
  }

  void lost(const std::string& why) {
    lostAt = std::chrono::duration_cast<std::chrono::seconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
    spdlog::warn("database {}: the listening session was lost ({}); reconnecting every {} s", url, why,
                 kListenerRetry.count());
    disconnect();
    scheduleRetry();
  }

  void scheduleRetry() {
    std::weak_ptr<Impl> weak = shared_from_this();
    retry.expires_after(kListenerRetry);
    retry.async_wait([weak](const boost::system::error_code& ec) {
      auto self = weak.lock();
      if (!self || ec) return;
      self->reconnect();
    });
  }

  // Coming back never waits on the network: libpq's non-blocking connect
  // (PQconnectStartParams, then PQconnectPoll each time the socket is
  // ready as it asks), then the LISTENs sent in one query and their
  // results read as they come, all driven by the loop. An attempt not done
  // within kAttemptLimit (a host that does not answer) is abandoned and
  // tried again a second later.
  void reconnect() {
    const std::uint64_t mine = ++attempt;
    conn = open(/*blocking=*/false);
    if (conn == nullptr) return notYet("out of memory");
    if (PQstatus(conn) == CONNECTION_BAD) return notYet(listenerFirstLine(PQerrorMessage(conn)));
    connecting = true;
    std::weak_ptr<Impl> weak = shared_from_this();
    deadline.expires_after(kAttemptLimit);
    deadline.async_wait([weak, mine](const boost::system::error_code& ec) {
      auto self = weak.lock();
      if (!self || ec || !self->connecting || self->attempt != mine) return;
      self->notYet("no answer within " + std::to_string(kAttemptLimit.count()) + " s");
    });
    pollConnect(PGRES_POLLING_WRITING);
  }

  void pollConnect(PostgresPollingStatusType st) {
    if (st == PGRES_POLLING_OK) return sendListen();
    if (st == PGRES_POLLING_FAILED) return notYet(listenerFirstLine(PQerrorMessage(conn)));
    if (!watchSocket()) return notYet("cannot watch the session's socket");
    const std::uint64_t mine = attempt;
    std::weak_ptr<Impl> weak = shared_from_this();
    socket->async_wait(st == PGRES_POLLING_READING ? asio::posix::stream_descriptor::wait_read
                                                   : asio::posix::stream_descriptor::wait_write,
                       [weak, mine](const boost::system::error_code& ec) {
                         auto self = weak.lock();
                         if (!self || !self->connecting || self->attempt != mine ||
                             ec == asio::error::operation_aborted)
                           return;
                         self->pollConnect(PQconnectPoll(self->conn));
                       });
  }

  void sendListen() {
    const std::string sql = prepareListen();
    // A few dozen bytes: the socket's buffer takes them at once.
    if (PQsetnonblocking(conn, 1) != 0 || PQsendQuery(conn, sql.c_str()) == 0 || PQflush(conn) != 0)
      return notYet("LISTEN: " + listenerFirstLine(PQerrorMessage(conn)));
    awaitListen();
  }

  void awaitListen() {
    if (!watchSocket()) return notYet("cannot watch the session's socket");
    const std::uint64_t mine = attempt;
    std::weak_ptr<Impl> weak = shared_from_this();
    socket->async_wait(asio::posix::stream_descriptor::wait_read, [weak, mine](const boost::system::error_code& ec) {
      auto self = weak.lock();
      if (!self || !self->connecting || self->attempt != mine || ec == asio::error::operation_aborted) return;
      if (ec || PQconsumeInput(self->conn) == 0)
        return self->notYet("LISTEN: " + (ec ? ec.message() : listenerFirstLine(PQerrorMessage(self->conn))));
      while (PQisBusy(self->conn) == 0) {
        PGresult* r = PQgetResult(self->conn);
        if (r == nullptr) return self->listening();
        const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        const std::string why = ok ? "" : listenerFirstLine(PQresultErrorMessage(r));
        PQclear(r);
        if (!ok) return self->notYet("LISTEN: " + why);
      }
      self->awaitListen();
    });
  }

  void listening() {
    connecting = false;
    deadline.cancel();
    spdlog::info("database {}: listening again", url);
    doWait();
    try {
      if (onReconnected) onReconnected();
    } catch (const std::exception& e) {
      spdlog::error("database {}: catching up after the listener reconnected: {}", url, e.what());
    }
  }

  void notYet(const std::string& why) {
    connecting = false;
    deadline.cancel();
    spdlog::debug("database {}: listening session not back yet: {}", url, why);
    disconnect();
    scheduleRetry();
  }

  // asio watches a duplicate of libpq's socket, made again when libpq
  // moves to another one (it may while connecting).
  bool watchSocket() {
    const int fd = PQsocket(conn);
    if (fd < 0) return false;
    if (socket && watchedFd == fd) return true;
    socket.reset();
    const int copy = ::dup(fd);
    if (copy < 0) return false;
    socket = std::make_unique<asio::posix::stream_descriptor>(io, copy);
    watchedFd = fd;
    return true;
  }

  asio::io_context& io;
  std::string url;
  std::vector<std::string> channels;
  OnNotify onNotify;
  std::function<void()> onReconnected;
  asio::steady_timer retry;
  asio::steady_timer deadline;  // of a reconnect attempt
  std::uint64_t attempt = 0;   // callbacks of an abandoned attempt do nothing
  bool connecting = false;
  int watchedFd = -1;  // libpq's socket that `socket` duplicates
  PGconn* conn = nullptr;
  std::unique_ptr<asio::posix::stream_descriptor> socket;
  std::uint64_t heard = 0;
  std::int64_t lostAt = 0;
};

DbListener::DbListener(asio::io_context& io, const std::string& url, std::vector<std::string> channels,
                       OnNotify onNotify, std::function<void()> onReconnected)
    : impl_(std::make_shared<Impl>(io, url, std::move(channels), std::move(onNotify),
                                   std::move(onReconnected))) {
  if (const std::string why = impl_->connect(); !why.empty())
    throw DbError("cannot listen on database " + url + ": " + why, DbErrorKind::ConnectionLost, why);
  impl_->doWait();
}

DbListener::~DbListener() {
  impl_->retry.cancel();
  impl_->deadline.cancel();
  impl_->disconnect();
}

std::uint64_t DbListener::heard() const { return impl_->heard; }
std::int64_t DbListener::lostAt() const { return impl_->lostAt; }

}  // namespace bb::db
