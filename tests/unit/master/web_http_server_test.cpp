// The HTTP server (master/web/http_server) on a real socket: a handler that
// throws answers 500 and the server goes on; a request that never
// completes is cut at the read deadline; keep-alive; stop closes sessions.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "master/web/http_server.hpp"
#include "master/web/router.hpp"

namespace bb::web {
namespace {

class WebHttpServer : public ::testing::Test {
 protected:
  void SetUp() override {
    router.add("GET", "/ok", [](HttpRequest&, const PathParams&) { return textResponse("fine"); });
    router.add("GET", "/boom", [](HttpRequest&, const PathParams&) -> HttpResponse {
      throw std::runtime_error("a bug");
    });
    router.add("GET", "/stream", [](HttpRequest&, const PathParams&) {
      HttpResponse r = textResponse("");
      auto n = std::make_shared<int>(0);
      r.stream = [n](std::string& out) {
        out = "piece " + std::to_string(++*n) + "\n";
        return *n < 3;
      };
      return r;
    });
    HttpServerOptions o;
    o.readTimeout = std::chrono::seconds(1);
    o.idleTimeout = std::chrono::seconds(1);
    server = std::make_unique<HttpServer>(io, o, [this](HttpRequest& r) { return router.dispatch(r); });
    server->listen();
    thread = std::thread([this] { io.run(); });
  }
  void TearDown() override {
    boost::asio::post(io, [this] {
      server->stopAccepting();
      server->closeAll();
      io.stop();
    });
    thread.join();
  }
  int connectSocket() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(server->port());
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    return fd;
  }
  // Everything the server sends until it closes (or `ms` pass).
  std::string exchange(const std::string& request, int ms = 5000) {
    const int fd = connectSocket();
    EXPECT_EQ(::send(fd, request.data(), request.size(), MSG_NOSIGNAL), static_cast<ssize_t>(request.size()));
    std::string out;
    char buf[4096];
    for (;;) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, ms) <= 0) break;
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      out.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return out;
  }

  boost::asio::io_context io;
  Router router;
  std::unique_ptr<HttpServer> server;
  std::thread thread;
};

TEST_F(WebHttpServer, AThrowingHandlerAnswers500AndTheServerGoesOn) {
  const std::string r = exchange("GET /boom HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(r.rfind("HTTP/1.1 500", 0), 0u) << r;
  EXPECT_NE(r.find("a bug"), std::string::npos) << r;
  const std::string ok = exchange("GET /ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(ok.rfind("HTTP/1.1 200", 0), 0u) << ok;
  EXPECT_NE(ok.find("fine"), std::string::npos);
}

TEST_F(WebHttpServer, KeepAliveServesSeveralRequestsOnOneConnection) {
  const std::string r = exchange(
      "GET /ok HTTP/1.1\r\nHost: x\r\n\r\nGET /stream HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  std::size_t answers = 0;
  for (auto p = r.find("HTTP/1.1 200"); p != std::string::npos; p = r.find("HTTP/1.1 200", p + 1)) ++answers;
  EXPECT_EQ(answers, 3u) << r;
  EXPECT_NE(r.find("piece 1\n"), std::string::npos) << r;
  EXPECT_NE(r.find("piece 3\n"), std::string::npos) << r;
  EXPECT_NE(r.find("Transfer-Encoding: chunked"), std::string::npos) << r;
}

TEST_F(WebHttpServer, AnIncompleteRequestIsCutAtTheReadDeadline) {
  const auto start = std::chrono::steady_clock::now();
  const std::string r = exchange("GET /ok HTTP/1.1\r\nHost: x\r\n", 10000);  // never ends its header
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r, "");
  EXPECT_LT(took, std::chrono::seconds(8));  // closed by the server, not by this test giving up
}

TEST_F(WebHttpServer, HeadAnswersWithoutABody) {
  const std::string r = exchange("HEAD /ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(r.rfind("HTTP/1.1 200", 0), 0u) << r;
  EXPECT_NE(r.find("Content-Length: 4"), std::string::npos) << r;
  EXPECT_EQ(r.find("fine"), std::string::npos) << r;
}

}  // namespace
}  // namespace bb::web
