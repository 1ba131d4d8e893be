#pragma once
// The HTTP/1.1 server (Boost.Beast, in http_server.cpp only) on the
// master's io_context: keep-alive, limits on header and body size, a
// deadline on every read and write, one answer in flight per connection
// (the next request is not read before the answer is written, so a client
// that does not read its answers stops being read), a bounded queue for
// event streams, and a stop that closes the acceptor and every session.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "master/web/http_message.hpp"

namespace boost::asio {
class io_context;
}

namespace bb::web {

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;  // 0: an ephemeral port (tests)
  std::size_t maxHeaderBytes = 16 * 1024;   // larger: 431
  std::size_t maxBodyBytes = 1024 * 1024;   // larger: 413
  std::chrono::seconds readTimeout{30};     // a whole request, once it started
  std::chrono::seconds idleTimeout{60};     // between requests on a kept-alive connection
  std::chrono::seconds writeTimeout{60};    // each write of an answer or stream piece
  std::size_t maxConnections = 512;         // more: answered 503 and closed
  std::chrono::seconds streamKeepAlive{20}; // a comment line on a quiet event stream
};

class HttpServer {
 public:
  using RequestHandler = std::function<HttpResponse(HttpRequest&)>;

  HttpServer(boost::asio::io_context& io, HttpServerOptions opts, RequestHandler handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts accepting; throws std::runtime_error with a line
  // saying what to fix when the address cannot be bound.
  void listen();
  std::uint16_t port() const;
  // Stops accepting new connections (shutdown step 1).
  void stopAccepting();
  // Closes every open connection, event streams included (shutdown step 5).
  void closeAll();
  std::size_t connectionCount() const;

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace bb::web
