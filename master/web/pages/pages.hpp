#pragma once
// The pages: each gathers what it shows through the same read methods the
// client protocol serves (RpcHandler::read) and the database, builds a
// template context, and renders it (page_renderer.hpp). Links are made
// from Site::base, so the pages work behind a proxy under a path prefix.
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>

#include "common/message.hpp"
#include "config/master_config.hpp"
#include "master/web/pages/page_renderer.hpp"

namespace bb::db {
class Database;
}

namespace bb::web {

// A string or integer field of a status view; empty or 0 when it is
// absent or of another type (views leave out what they do not know).
inline std::string str(const Json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

inline std::int64_t num(const Json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<std::int64_t>() : 0;
}

// The page does not exist (no such builder, build, log, change): a 404.
struct PageNotFound : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Pages {
 public:
  // `read(method, params)`: status, build, log, buildset, change_status as
  // RpcHandler serves them (it throws RpcError; not_found becomes
  // PageNotFound here).
  using Reader = std::function<Json(const std::string& method, const Json& params)>;
  Pages(db::Database& db, std::function<const MasterConfig&()> config, Reader read)
      : db_(db), config_(std::move(config)), read_(std::move(read)) {}

  // `canControl`: the viewer may force, stop, cancel and re-prioritise
  // (the forms are shown; the API still checks every request).
  std::string front(const Site& site);
  std::string waterfall(const Site& site, int buildsPerBuilder);
  std::string console(const Site& site, int changes);
  std::string builder(const Site& site, const std::string& name, bool canControl);
  std::string build(const Site& site, const std::string& builder, int number, bool canControl);
  // One page of a step's log, from byte `offset` (-1: the last page).
  std::string log(const Site& site, const std::string& builder, int number, int step,
                  const std::string& logName, std::int64_t offset);
  // What a live log page appends: {html, next, finished}: the complete
  // lines stored from `offset` (everything once the log has finished).
  Json logTail(std::int64_t logId, std::int64_t offset);
  std::string change(const Site& site, std::int64_t id);
  std::string changes(const Site& site);
  std::string buildset(const Site& site, std::int64_t id);
  std::string buildsets(const Site& site);
  std::string requests(const Site& site, bool canControl);
  // `canStop`: the viewer may `stop_slave` (a graceful-stop button on each
  // connected slave).
  std::string slaves(const Site& site, bool canStop);
  // `locks` as GET /api/v2/locks gives them (locksView): holders and waiters.
  std::string locks(const Site& site, const Json& locks);
  std::string schedulers(const Site& site);
  // Build statistics by week (stats_page.cpp): SVG charts of duration,
  // pass rate and queue time per builder, and the figures; one builder
  // when `builder` is not empty.
  std::string stats(const Site& site, const std::string& builder);
  std::string schedulerTimeline(const Site& site, int buildsets);

  // The bytes one log page shows.
  static constexpr std::int64_t kLogPage = 256 * 1024;

 private:
  Json read(const std::string& method, const Json& params);
  Json buildContext(const Site& site, const Json& build, bool canControl);
  Json changeRow(const Site& site, const Json& change);

  db::Database& db_;
  std::function<const MasterConfig&()> config_;
  Reader read_;
};

// The path prefix of master.url ("http://h/ci/" -> "/ci"), "" for none:
// Site::base.
std::string basePath(const std::string& masterUrl);

// Links, each starting with site.base.
std::string builderHref(const Site& site, const std::string& builder);
std::string buildHref(const Site& site, const std::string& builder, std::int64_t number);
std::string changeHref(const Site& site, std::int64_t id);
std::string buildsetHref(const Site& site, std::int64_t id);

}  // namespace bb::web
