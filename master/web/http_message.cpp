#include "master/web/http_message.hpp"

namespace bb::web {

std::string HttpRequest::header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

std::string HttpRequest::param(const std::string& name) const {
  auto it = query.find(name);
  return it == query.end() ? std::string() : it->second;
}

HttpResponse jsonResponse(const Json& body, int status) {
  HttpResponse r;
  r.status = status;
  r.contentType = "application/json";
  // Invalid UTF-8 in stored text (a log line, a commit message) is
  // replaced, never a reason to fail the whole reply.
  r.body = body.dump(-1, ' ', false, Json::error_handler_t::replace);
  r.body.push_back('\n');
  return r;
}

HttpResponse htmlResponse(std::string html, int status) {
  HttpResponse r;
  r.status = status;
  r.contentType = "text/html; charset=utf-8";
  r.body = std::move(html);
  return r;
}

HttpResponse textResponse(std::string text, int status) {
  HttpResponse r;
  r.status = status;
  r.contentType = "text/plain; charset=utf-8";
  r.body = std::move(text);
  return r;
}

HttpResponse errorResponse(const HttpRequest& req, int status, const std::string& message) {
  const bool api = req.path.rfind("/api/", 0) == 0 || req.path.rfind("/change_hook/", 0) == 0;
  HttpResponse r = api ? jsonResponse(Json{{"error", message}, {"code", status}}, status)
                       : textResponse(std::to_string(status) + " " + reasonPhrase(status) + ": " +
                                          message + "\n",
                                      status);
  if (status == 401) r.headers.emplace_back("WWW-Authenticate", "Basic realm=\"buildmaster\"");
  return r;
}

const char* reasonPhrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 303: return "See Other";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    case 507: return "Insufficient Storage";
    default: return "Unknown";
  }
}

namespace {
int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

std::string urlDecode(const std::string& s, bool form) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '+' && form) {
      out.push_back(' ');
    } else if (c == '%') {
      if (i + 2 >= s.size()) throw HttpError(400, "bad percent-escape in '" + s + "'");
      const int a = hexValue(s[i + 1]), b = hexValue(s[i + 2]);
      if (a < 0 || b < 0) throw HttpError(400, "bad percent-escape in '" + s + "'");
      out.push_back(static_cast<char>(a * 16 + b));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::multimap<std::string, std::string> parseQuery(const std::string& q) {
  std::multimap<std::string, std::string> out;
  std::size_t pos = 0;
  while (pos <= q.size()) {
    std::size_t amp = q.find('&', pos);
    if (amp == std::string::npos) amp = q.size();
    const std::string part = q.substr(pos, amp - pos);
    if (!part.empty()) {
      const auto eq = part.find('=');
      if (eq == std::string::npos) out.emplace(urlDecode(part, true), "");
      else out.emplace(urlDecode(part.substr(0, eq), true), urlDecode(part.substr(eq + 1), true));
    }
    pos = amp + 1;
  }
  return out;
}

void splitTarget(HttpRequest& req) {
  if (req.target.empty() || req.target[0] != '/')
    throw HttpError(400, "the request target must be a path starting with '/'");
  const auto q = req.target.find('?');
  req.path = urlDecode(req.target.substr(0, q), false);
  if (q != std::string::npos) req.query = parseQuery(req.target.substr(q + 1));
}

std::string htmlEscape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

}  // namespace bb::web
