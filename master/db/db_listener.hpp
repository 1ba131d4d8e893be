#pragma once
// What other masters on a shared database announce (PostgreSQL
// LISTEN/NOTIFY), heard on this master's event loop: a second session to
// the server that only listens, whose socket the io_context watches, so no
// thread waits and nothing polls. Database::notify() is the sending side.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace bb::db {

class DbListener {
 public:
  using OnNotify = std::function<void(const std::string& channel, const std::string& payload)>;

  // Connects to the PostgreSQL database `url` (the password as the master's
  // own connection gets it) and LISTENs on `channels`. `onNotify` runs on
  // io's thread for each notification, in the order they were committed; a
  // throw from it is logged and the next one is delivered. When the session
  // is lost the listener reconnects every second, logging the outage once;
  // what was announced meanwhile is not heard, so `onReconnected` runs once
  // it listens again (the owner looks at the rows itself). Throws DbError
  // if the first connection fails.
  DbListener(boost::asio::io_context& io, const std::string& url, std::vector<std::string> channels,
             OnNotify onNotify, std::function<void()> onReconnected);
  ~DbListener();
  DbListener(const DbListener&) = delete;
  DbListener& operator=(const DbListener&) = delete;

  // Notifications heard so far (for tests and /metrics-style counts).
  std::uint64_t heard() const;
  // When the session was last lost (unix seconds; 0: never), so that the
  // owner knows from when it may have missed notifications.
  std::int64_t lostAt() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace bb::db
