// GET /api/v2/logs/{id}: a log, its lines by range, and its raw bytes
// streamed from the stored chunks (one chunk in memory at a time).
#include <memory>

#include "master/db/database.hpp"
#include "master/status/views.hpp"
#include "master/web/rest_common.hpp"
#include "master/web/rest_views.hpp"

namespace bb::web {

namespace {

constexpr std::int64_t kDefaultLines = 1000;
constexpr std::int64_t kMaxLines = 10000;

db::LogRecord logOf(WebContext& ctx, const PathParams& p) {
  auto l = ctx.db.getLog(pathId(p, "id"));
  if (!l) throw HttpError(404, "no log with id " + p.at("id"));
  return *l;
}

// The text of a log the retention janitor removed: 410 saying when and why.
const db::LogRecord& withText(const db::LogRecord& l) {
  if (l.removedAt)
    throw HttpError(410, "the text of log " + std::to_string(l.id) + " was " +
                             retentionRemovalText(l.removedAt, l.removedBy));
  return l;
}

std::int64_t lineParam(const HttpRequest& req, const std::string& name, std::int64_t dflt, std::int64_t max) {
  if (!req.hasParam(name)) return dflt;
  const std::string v = req.param(name);
  try {
    std::size_t used = 0;
    const long long n = std::stoll(v, &used);
    if (used == v.size() && n >= 0 && n <= max) return n;
  } catch (const std::exception&) {
  }
  throw HttpError(400, name + " must be a whole number from 0 to " + std::to_string(max) + ", got '" + v + "'");
}

HttpResponse raw(WebContext& ctx, const PathParams& p, bool attachment) {
  const db::LogRecord log = withText(logOf(ctx, p));
  HttpResponse res;
  res.contentType = "text/plain; charset=utf-8";
  if (attachment)
    res.headers.emplace_back("Content-Disposition", "attachment; filename=\"log-" + std::to_string(log.id) + ".txt\"");
  // Each call decompresses the next stored chunk only: memory stays at one
  // chunk (~64 KiB) whatever the log's size. A running log is read up to
  // its last stored chunk.
  auto seq = std::make_shared<std::int64_t>(-1);
  db::Database* db = &ctx.db;
  const std::int64_t id = log.id;
  res.stream = [db, id, seq](std::string& out) {
    const auto next = db->readLogChunkAfter(id, *seq, [&](int, std::string_view data) { out.append(data); });
    if (!next) return false;
    *seq = *next;
    return true;
  };
  return res;
}

}  // namespace

void addLogRoutes(Router& r, WebContext& ctx) {
  r.add("GET", "/api/v2/logs/{id}", [&ctx](HttpRequest& req, const PathParams& p) {
    ctx.requireRead(req);
    return oneResponse(req, "logs", restLog(logOf(ctx, p)));
  });
  r.add("GET", "/api/v2/logs/{id}/contents", [&ctx](HttpRequest& req, const PathParams& p) {
    ctx.requireRead(req);
    const db::LogRecord log = withText(logOf(ctx, p));
    const std::int64_t first = lineParam(req, "offset", 0, std::numeric_limits<std::int64_t>::max());
    const std::int64_t limit = lineParam(req, "limit", kDefaultLines, kMaxLines);
    // Lines before `offset` are counted, not kept; reading stops after the
    // last wanted line.
    std::string content;
    std::int64_t line = 0, got = 0;
    ctx.db.readLog(log.id, [&](int, std::string_view data) {
      std::size_t pos = 0;
      while (pos < data.size() && got < limit) {
        const auto nl = data.find('\n', pos);
        const std::size_t end = nl == std::string_view::npos ? data.size() : nl + 1;
        if (line >= first) content.append(data.substr(pos, end - pos));
        if (nl != std::string_view::npos) {
          if (line >= first) ++got;
          ++line;
        }
        pos = end;
      }
      return got < limit;
    });
    // A last line without its newline counts too.
    if (!content.empty() && content.back() != '\n' && got < limit) ++got;
    Json chunk{{"logid", log.id}, {"firstline", first}, {"lines", got}, {"content", std::move(content)}};
    return jsonResponse(Json{{"logchunks", Json::array({std::move(chunk)})}, {"meta", Json{{"total", 1}}}});
  });
  r.add("GET", "/api/v2/logs/{id}/raw", [&ctx](HttpRequest& req, const PathParams& p) {
    ctx.requireRead(req);
    return raw(ctx, p, true);
  });
  r.add("GET", "/api/v2/logs/{id}/raw_inline", [&ctx](HttpRequest& req, const PathParams& p) {
    ctx.requireRead(req);
    return raw(ctx, p, false);
  });
}

}  // namespace bb::web
