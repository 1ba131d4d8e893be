#pragma once
// One HTTP request and its answer as the web handlers see them, without
// Boost.Beast (only http_server.cpp speaks Beast). A handler reads an
// HttpRequest and returns an HttpResponse: a whole body, a body streamed
// piece by piece (a raw log), or an event stream (SSE).
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/message.hpp"  // Json

namespace bb::web {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // as sent: path and query
  std::string path;    // percent-decoded, without the query
  std::multimap<std::string, std::string> query;  // decoded query parameters
  std::map<std::string, std::string> headers;     // names in lower case
  std::string body;
  std::string remote;  // the peer's address, for logs and rate limits
  std::string user;    // set by authentication ("" anonymous)

  // The header's value, "" when absent (name in lower case).
  std::string header(const std::string& name) const;
  // The first value of a query parameter, "" when absent.
  std::string param(const std::string& name) const;
  bool hasParam(const std::string& name) const { return query.count(name) > 0; }
};

// Where an event stream writes. push() queues one piece (false once the
// client is gone); a shared piece is queued without a copy, so one event's
// text serves every client that gets it; queued() says how many bytes
// wait; finish() queues a last piece and closes after writing it.
// onDrained runs whenever the queue empties; onClosed once, when the
// connection ends.
class StreamSink {
 public:
  virtual ~StreamSink() = default;
  virtual bool push(std::shared_ptr<const std::string> piece) = 0;
  bool push(std::string piece) { return push(std::make_shared<const std::string>(std::move(piece))); }
  // Queues every piece, in order (one call for a batch of events); false
  // as push(). Leaves `pieces` empty.
  virtual bool pushAll(std::vector<std::shared_ptr<const std::string>>& pieces) {
    bool ok = true;
    for (auto& p : pieces) ok = push(std::move(p)) && ok;
    pieces.clear();
    return ok;
  }
  virtual std::size_t queued() const = 0;
  virtual void finish(std::string last) = 0;
  std::function<void()> onDrained;
  std::function<void()> onClosed;
};

struct HttpResponse {
  int status = 200;
  std::string contentType = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // A streamed body (sent with chunked encoding): each call appends the
  // next piece to `out` and returns false after the last one. Called only
  // once the previous piece is written, so memory stays flat.
  std::function<bool(std::string& out)> stream;
  // An event stream: called once the headers are out, with the sink that
  // writes to this client until either side ends it.
  std::function<void(std::shared_ptr<StreamSink>)> events;
  bool close = false;  // close the connection after this answer
};

// A whole JSON body with status 200 (or `status`).
HttpResponse jsonResponse(const Json& body, int status = 200);
// An HTML page (the pages build on this).
HttpResponse htmlResponse(std::string html, int status = 200);
HttpResponse textResponse(std::string text, int status = 200);
// An error in the shape of its path: {"error": message, "code": status}
// under /api/ and for the change hook, plain text elsewhere.
HttpResponse errorResponse(const HttpRequest& req, int status, const std::string& message);
// The standard reason phrase ("Not Found").
const char* reasonPhrase(int status);

// An error a handler throws to answer with `status` (errorResponse shape).
struct HttpError : std::runtime_error {
  HttpError(int s, const std::string& message) : std::runtime_error(message), status(s) {}
  int status;
};

// Percent-decoding ('+' as space when `form` is true); throws HttpError 400
// for a bad escape.
std::string urlDecode(const std::string& s, bool form);
// Splits "a=1&b=x%20y" into decoded pairs.
std::multimap<std::string, std::string> parseQuery(const std::string& q);
// Fills path and query from target; throws HttpError 400 if it is not an
// origin-form target ("/...").
void splitTarget(HttpRequest& req);
// Escapes &, <, >, " and ' for HTML text and attributes.
std::string htmlEscape(const std::string& s);

}  // namespace bb::web
