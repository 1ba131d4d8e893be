// The time-ordered pages (pages.hpp): waterfall, console, the scheduler
// views and a step's log.
#include <algorithm>
#include <map>

#include "master/db/database.hpp"
#include "master/status/views.hpp"
#include "master/web/pages/html_text.hpp"
#include "master/web/pages/pages.hpp"

namespace bb::web {

namespace {

// Rows of a time-ordered table, newest first: one per second in which
// something happened, with a cell per column.
struct TimeRows {
  explicit TimeRows(std::size_t columns) : columns_(columns) {}
  Json& cell(std::int64_t time, std::size_t column, const char* list) {
    Json& row = row_(time);
    Json& c = row["cells"][column];
    if (!c.contains(list)) c[list] = Json::array();
    return c[list];
  }
  Json& changes(std::int64_t time) { return row_(time)["changes"]; }
  Json rows(std::size_t limit) const {
    Json out = Json::array();
    for (auto it = rows_.rbegin(); it != rows_.rend() && out.size() < limit; ++it) {
      Json r = it->second;
      r["time"] = formatTime(it->first);
      out.push_back(std::move(r));
    }
    return out;
  }

 private:
  Json& row_(std::int64_t time) {
    auto [it, fresh] = rows_.try_emplace(time);
    if (fresh) {
      it->second = Json{{"changes", Json::array()}, {"cells", Json::array()}};
      for (std::size_t i = 0; i < columns_; ++i) it->second["cells"].push_back(Json::object());
    }
    return it->second;
  }
  std::size_t columns_;
  std::map<std::int64_t, Json> rows_;
};

// What a scheduler's view says of its state, in one line ("next fire
// 2026-12-02 03:00:00; 2 changes held").
std::string schedulerSummary(const Json& s) {
  std::string out;
  auto add = [&](const std::string& part) { out += (out.empty() ? "" : "; ") + part; };
  if (num(s, "next_fire_at") > 0) add("next fire " + formatTime(num(s, "next_fire_at")));
  if (num(s, "stable_at") > 0) add("tree stable at " + formatTime(num(s, "stable_at")));
  if (num(s, "held_count") > 0) add(std::to_string(num(s, "held_count")) + " change(s) held");
  if (!str(s, "last_error").empty()) add("error: " + str(s, "last_error"));
  return out;
}

// Complete lines only while a log grows: what follows the last newline
// (maybe half an escape sequence or a UTF-8 character) waits for the rest.
std::size_t completeLength(const std::string& data, bool finished) {
  if (finished) return data.size();
  const auto nl = data.rfind('\n');
  if (nl != std::string::npos) return nl + 1;
  return data.size() >= 64 * 1024 ? data.size() : 0;  // a huge line still shows
}

}  // namespace

std::string Pages::waterfall(const Site& site, int buildsPerBuilder) {
  const Json st = read("status", Json{{"limit", buildsPerBuilder}});
  const auto& cfg = config_();
  std::map<std::string, Json> slaveState;
  for (const auto& s : st["slaves"]) slaveState[str(s, "name")] = s;
  Json columns = Json::array();
  TimeRows rows(st["builders"].size());
  std::size_t col = 0;
  for (const auto& b : st["builders"]) {
    const std::string name = str(b, "name");
    Json slaves = Json::array();
    if (const BuilderEntry* bc = cfg.findBuilder(name))
      for (const auto& s : bc->slaves)
        slaves.push_back(Json{{"name", s}, {"state", str(slaveState[s], "state")}});
    columns.push_back(Json{{"name", name}, {"href", builderHref(site, name)}, {"slaves", slaves}});
    for (const auto& summary : b["builds"]) {
      const std::int64_t number = num(summary, "number");
      const Json detail = read("build", Json{{"builder", name}, {"number", number}})["build"];
      const std::string href = buildHref(site, name, number);
      Json steps = Json::array();
      for (const auto& s : detail["steps"])
        steps.push_back(Json{{"name", str(s, "name")},
                             {"result", str(s, "result")},
                             {"text", str(s, "text")},
                             {"href", href + "#step-" + std::to_string(num(s, "number"))}});
      rows.cell(num(detail, "started_at"), col, "builds")
          .push_back(Json{{"number", number},
                          {"href", href},
                          {"result", str(detail, "result")},
                          {"slave", str(detail, "slave")},
                          {"steps", steps}});
    }
    ++col;
  }
  for (const auto& c : db_.recentChanges(30))
    rows.changes(c.when).push_back(Json{{"href", changeHref(site, c.id)},
                                        {"author", c.author},
                                        {"branch", c.branch},
                                        {"comments", c.comments.substr(0, c.comments.find('\n'))}});
  Json scheds = Json::array();
  for (const auto& s : st["schedulers"])
    scheds.push_back(Json{{"name", str(s, "name")},
                          {"href", site.base + "/schedulers#scheduler-" + urlSegment(str(s, "name"))},
                          {"type", str(s, "type")},
                          {"summary", schedulerSummary(s)}});
  Json ctx{{"columns", columns}, {"rows", rows.rows(200)}, {"schedulers", scheds}};
  return renderPage("waterfall", "Waterfall", ctx, site);
}

std::string Pages::console(const Site& site, int changes) {
  const auto& cfg = config_();
  Json builders = Json::array();
  for (const auto& b : cfg.builders) builders.push_back(Json{{"name", b.name}});
  Json rows = Json::array();
  for (const auto& c : db_.recentChanges(changes)) {
    const Json st = read("change_status", Json{{"change_id", c.id}});
    std::map<std::string, Json> byBuilder;
    for (const auto& s : st["schedulers"])
      for (const auto& bs : s.value("buildsets", Json::array()))
        for (const auto& r : bs["requests"])
          for (const auto& b : r["builds"]) {
            Json& list = byBuilder[str(r, "builder")];
            if (list.is_null()) list = Json::array();
            list.push_back(Json{{"number", num(b, "number")},
                                {"result", str(b, "result")},
                                {"href", buildHref(site, str(r, "builder"), num(b, "number"))}});
          }
    Json cells = Json::array();
    for (const auto& b : cfg.builders) {
      auto it = byBuilder.find(b.name);
      cells.push_back(Json{{"builds", it == byBuilder.end() ? Json::array() : it->second}});
    }
    rows.push_back(Json{{"href", changeHref(site, c.id)},
                        {"revision_short", c.revision.substr(0, 12)},
                        {"author", c.author},
                        {"comments", c.comments.substr(0, c.comments.find('\n'))},
                        {"cells", cells}});
  }
  return renderPage("console", "Console", Json{{"builders", builders}, {"rows", rows}}, site);
}

std::string Pages::schedulers(const Site& site) {
  const Json st = read("status", Json{{"limit", 1}});
  const auto recent = db_.recentBuildsets(500);
  Json boxes = Json::array();
  for (const auto& s : st["schedulers"]) {
    const std::string name = str(s, "name");
    Json builders = Json::array();
    for (const auto& b : s["builders"])
      builders.push_back(Json{{"name", b}, {"href", builderHref(site, b.get<std::string>())}});
    Json facts = Json::array();
    for (auto it = s.begin(); it != s.end(); ++it) {
      const std::string& k = it.key();
      if (k == "name" || k == "type" || k == "builders" || k == "last_error") continue;
      std::string v = it.value().is_string() ? it.value().get<std::string>() : it.value().dump();
      if ((k == "next_fire_at" || k == "stable_at") && it.value().is_number())
        v = formatTime(it.value().get<std::int64_t>());
      facts.push_back(Json{{"key", k}, {"value", v}});
    }
    Json box{{"name", name},
             {"type", str(s, "type")},
             {"builders", builders},
             {"facts", facts},
             {"last_error", str(s, "last_error")}};
    for (const auto& bs : recent)
      if (bs.scheduler == name) {
        box["last_buildset"] = Json{{"id", bs.id},
                                    {"href", buildsetHref(site, bs.id)},
                                    {"result", resultText(bs.complete, bs.result, "pending")}};
        break;
      }
    boxes.push_back(std::move(box));
  }
  return renderPage("schedulers", "Schedulers", Json{{"schedulers", boxes}}, site);
}

std::string Pages::schedulerTimeline(const Site& site, int buildsets) {
  const auto& cfg = config_();
  Json columns = Json::array();
  std::map<std::string, std::size_t> index;
  for (const auto& s : cfg.schedulers) {
    index[s.name] = columns.size();
    columns.push_back(Json{{"name", s.name}});
  }
  TimeRows rows(columns.size());
  for (const auto& bs : db_.recentBuildsets(buildsets)) {
    auto it = index.find(bs.scheduler);
    if (it == index.end()) continue;  // a scheduler no longer configured
    rows.cell(bs.submittedAt, it->second, "buildsets")
        .push_back(Json{{"id", bs.id},
                        {"href", buildsetHref(site, bs.id)},
                        {"result", resultText(bs.complete, bs.result, "pending")},
                        {"reason", bs.reason}});
  }
  return renderPage("scheduler_timeline", "Schedulers over time",
                    Json{{"columns", columns}, {"rows", rows.rows(300)}}, site);
}

std::string Pages::log(const Site& site, const std::string& builder, int number, int step,
                       const std::string& logName, std::int64_t offset) {
  const Json b = read("build", Json{{"builder", builder}, {"number", number}})["build"];
  const Json* log = nullptr;
  std::string stepName;
  for (const auto& s : b["steps"])
    if (num(s, "number") == step)
      for (const auto& l : s["logs"])
        if (str(l, "name") == logName) {
          log = &l;
          stepName = str(s, "name");
        }
  if (!log)
    throw PageNotFound(builder + " #" + std::to_string(number) + " has no log '" + logName +
                       "' in step " + std::to_string(step));
  const std::int64_t id = num(*log, "id");
  const auto rec = db_.getLog(id);
  if (!rec) throw PageNotFound("no log with id " + std::to_string(id));
  if (offset < 0) offset = std::max<std::int64_t>(0, rec->bytes - kLogPage);
  offset = std::min(offset, rec->bytes);
  std::string data;
  if (offset < rec->bytes)
    db_.readLogFrom(id, offset, [&](int, std::string_view chunk) {
      data.append(chunk.substr(0, static_cast<std::size_t>(kLogPage) - data.size()));
      return data.size() < static_cast<std::size_t>(kLogPage);
    });
  // A page that starts inside a line starts at the next one instead.
  std::int64_t from = offset;
  if (offset > 0) {
    const auto nl = data.find('\n');
    if (nl != std::string::npos && nl < 4096) {
      data.erase(0, nl + 1);
      from += static_cast<std::int64_t>(nl + 1);
    }
  }
  data.resize(completeLength(data, rec->finished));
  const std::int64_t to = from + static_cast<std::int64_t>(data.size());
  const std::string href = buildHref(site, builder, number) + "/steps/" + std::to_string(step) +
                           "/logs/" + urlSegment(logName);
  const bool paged = rec->bytes > kLogPage;
  Json ctx{{"builder", builder},
           {"number", number},
           {"build_href", buildHref(site, builder, number)},
           {"step_name", stepName},
           {"log_id", id},
           {"bytes", rec->bytes},
           {"finished", rec->finished},
           {"raw_href", site.base + "/api/v2/logs/" + std::to_string(id) + "/raw"},
           {"paged", paged},
           {"from", from},
           {"to", to},
           {"tail", !rec->finished && to + kLogPage >= rec->bytes},
           {"html", ansiToHtml(data)}};
  if (paged) {
    if (from > 0) {
      ctx["first_href"] = href + "?offset=0";
      ctx["prev_href"] = href + "?offset=" + std::to_string(std::max<std::int64_t>(0, from - kLogPage));
    }
    if (to < rec->bytes) {
      ctx["next_href"] = href + "?offset=" + std::to_string(to);
      ctx["last_href"] = href + "?offset=last";
    }
  }
  return renderPage("log", builder + " #" + std::to_string(number) + " " + stepName + " " + logName,
                    ctx, site);
}

Json Pages::logTail(std::int64_t logId, std::int64_t offset) {
  const auto rec = db_.getLog(logId);
  if (!rec) throw PageNotFound("no log with id " + std::to_string(logId));
  offset = std::clamp<std::int64_t>(offset, 0, rec->bytes);
  std::string data;
  if (offset < rec->bytes)
    db_.readLogFrom(logId, offset, [&](int, std::string_view chunk) {
      data.append(chunk.substr(0, static_cast<std::size_t>(kLogPage) - data.size()));
      return data.size() < static_cast<std::size_t>(kLogPage);
    });
  data.resize(completeLength(data, rec->finished));
  const std::int64_t next = offset + static_cast<std::int64_t>(data.size());
  return Json{{"html", ansiToHtml(data)},
              {"next", next},
              {"finished", rec->finished && next >= rec->bytes}};
}

}  // namespace bb::web
