#include "master/web/router.hpp"

namespace bb::web {

std::vector<std::string> Router::split(const std::string& path) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < path.size()) {
    std::size_t slash = path.find('/', pos);
    if (slash == std::string::npos) slash = path.size();
    if (slash > pos) out.push_back(path.substr(pos, slash - pos));
    pos = slash + 1;
  }
  return out;
}

void Router::add(const std::string& method, const std::string& pattern, Handler h) {
  routes_.push_back(Route{method, split(pattern), std::move(h)});
}

bool Router::match(const Route& r, const std::vector<std::string>& segs, PathParams& out) {
  out.clear();
  for (std::size_t i = 0; i < r.segments.size(); ++i) {
    const std::string& p = r.segments[i];
    if (p == "*") {
      std::string rest;
      for (std::size_t j = i; j < segs.size(); ++j) rest += (j > i ? "/" : "") + segs[j];
      out["*"] = rest;
      return true;
    }
    if (i >= segs.size()) return false;
    if (p.size() > 2 && p.front() == '{' && p.back() == '}') out[p.substr(1, p.size() - 2)] = segs[i];
    else if (p != segs[i]) return false;
  }
  return segs.size() == r.segments.size();
}

HttpResponse Router::dispatch(HttpRequest& req) const {
  const auto segs = split(req.path);
  std::string allow;
  PathParams params;
  for (const auto& r : routes_) {
    if (!match(r, segs, params)) continue;
    const bool same = r.method == req.method || (r.method == "GET" && req.method == "HEAD");
    if (!same) {
      if (allow.find(r.method) == std::string::npos) allow += (allow.empty() ? "" : ", ") + r.method;
      continue;
    }
    try {
      return r.handler(req, params);
    } catch (const HttpError& e) {
      return errorResponse(req, e.status, e.what());
    }
  }
  if (!allow.empty()) {
    HttpResponse res = errorResponse(req, 405, req.method + " is not allowed on " + req.path +
                                                   " (allowed: " + allow + ")");
    res.headers.emplace_back("Allow", allow);
    return res;
  }
  return errorResponse(req, 404, "no such resource: " + req.path);
}

}  // namespace bb::web
