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
    // An event stream of three rounds of 1,000 pieces each (more than a
    // write takes buffers at once), the next round pushed when the last
    // is written, then a last piece.
    router.add("GET", "/events", [this](HttpRequest&, const PathParams&) {
      HttpResponse r;
      r.contentType = "text/event-stream";
      r.events = [this](std::shared_ptr<StreamSink> sink) {
        auto round = std::make_shared<int>(0);
        auto pushRound = [this, round](StreamSink& k) {
          std::vector<std::shared_ptr<const std::string>> pieces;
          for (int i = 0; i < 1000; ++i)
            pieces.push_back(std::make_shared<const std::string>(
                "r" + std::to_string(*round) + " p" + std::to_string(i) + "\n"));
          ++*round;
          k.pushAll(pieces);
          queuedAfterPush.push_back(k.queued());
        };
        pushRound(*sink);
        std::weak_ptr<StreamSink> weak = sink;
        sink->onDrained = [this, weak, round, pushRound] {
          auto k = weak.lock();
          if (!k || *round > 3) return;
          queuedWhenDrained.push_back(k->queued());
          if (*round < 3) return pushRound(*k);
          ++*round;
          k->finish("end\n");
        };
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
  std::vector<std::size_t> queuedAfterPush, queuedWhenDrained;  // on the server's thread
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

// The queued pieces of an event stream go out as one chunk per write, whole
// and in order, however many there are, and the bytes in flight count as
// queued until they are written.
TEST_F(WebHttpServer, AnEventStreamWritesEveryQueuedPieceInOrderAsOneChunkPerWrite) {
  const std::string r = exchange("GET /events HTTP/1.1\r\nHost: x\r\n\r\n");
  const auto bodyAt = r.find("\r\n\r\n");
  ASSERT_EQ(r.rfind("HTTP/1.1 200", 0), 0u) << r.substr(0, 300);
  ASSERT_NE(bodyAt, std::string::npos);
  // Decode the chunked body.
  std::string body;
  int chunks = 0;
  bool last = false;
  for (std::size_t p = bodyAt + 4; p < r.size();) {
    const auto eol = r.find("\r\n", p);
    ASSERT_NE(eol, std::string::npos) << r.substr(p, 100);
    const std::size_t n = std::stoul(r.substr(p, eol - p), nullptr, 16);
    if (n == 0) {
      last = true;
      break;
    }
    ASSERT_LE(eol + 2 + n + 2, r.size());
    body += r.substr(eol + 2, n);
    ASSERT_EQ(r.substr(eol + 2 + n, 2), "\r\n");
    p = eol + 2 + n + 2;
    ++chunks;
  }
  EXPECT_TRUE(last) << "the stream did not end with its last chunk";
  std::string want;
  std::size_t round0 = 0;
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 1000; ++i) want += "r" + std::to_string(round) + " p" + std::to_string(i) + "\n";
    if (round == 0) round0 = want.size();
  }
  want += "end\n";
  EXPECT_EQ(body, want);
  EXPECT_EQ(chunks, 4);  // a round each, then the last piece
  // queued() counts what was pushed, and nothing once it is written.
  ASSERT_EQ(queuedAfterPush.size(), 3u);
  EXPECT_EQ(queuedAfterPush[0], round0);
  for (std::size_t q : queuedWhenDrained) EXPECT_EQ(q, 0u);
  EXPECT_EQ(queuedWhenDrained.size(), 3u);
}

}  // namespace
}  // namespace bb::web
