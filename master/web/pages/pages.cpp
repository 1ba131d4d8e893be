// The entity pages (pages.hpp): front page, builder, build, log, change,
// BuildSet, queue, slaves, schedulers. The time-ordered views are in
// timeline_pages.cpp.
#include "master/web/pages/pages.hpp"

#include <algorithm>
#include <chrono>

#include "master/db/database.hpp"
#include "master/status/rpc_handler.hpp"
#include "master/status/views.hpp"
#include "master/web/pages/html_text.hpp"

namespace bb::web {

namespace {

// The front page's line on the retention janitor ("" when it is off and
// never ran): its last round and the next.
std::string frontRetentionLine(const Json& r) {
  if (!r.is_object()) return "";
  const Json last = r.value("last_run", Json());
  const bool enabled = r.value("enabled", false);
  if (!enabled && !last.is_object()) return "";
  std::string out = "no round yet";
  if (last.is_object()) {
    out = "last run " + formatTime(last.value("started_at", std::int64_t{0})) + " UTC: removed " +
          std::to_string(last.value("artifacts", 0)) + " artifact(s) (" +
          std::to_string(last.value("artifact_bytes", std::int64_t{0})) + " bytes) and the logs of " +
          std::to_string(last.value("log_builds", 0)) + " build(s) (" +
          std::to_string(last.value("log_bytes", std::int64_t{0})) + " bytes)";
    if (const std::string err = last.value("error", std::string()); !err.empty()) out += "; stopped early: " + err;
  }
  if (!enabled) out += "; retention is off";
  else if (r.contains("next_run_at") && r["next_run_at"].is_number())
    out += "; next " + formatTime(r["next_run_at"].get<std::int64_t>()) + " UTC";
  return out;
}

// The first line of `text`, cut to `max` bytes (at a UTF-8 boundary).
std::string firstLine(const std::string& text, std::size_t max) {
  std::string line = text.substr(0, text.find('\n'));
  if (line.size() <= max) return line;
  std::size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>(line[cut]) & 0xC0) == 0x80) --cut;
  return line.substr(0, cut) + "...";
}

std::string durationOf(const Json& thing) {
  const std::int64_t start = num(thing, "started_at");
  if (start == 0) return "";
  std::int64_t end = num(thing, "finished_at");
  if (end == 0)
    end = std::chrono::duration_cast<std::chrono::seconds>(
              std::chrono::system_clock::now().time_since_epoch())
              .count();
  return formatDuration(end - start);
}

// For a running build with an estimate (buildView's eta_seconds, from the
// builder's recent median): ", about 3 min left" or ", longer than usual".
std::string etaText(const Json& build) {
  if (build.value("finished", true) || !build.contains("eta_seconds")) return "";
  const std::int64_t left = num(build, "eta_seconds");
  return left > 0 ? ", about " + formatDuration(left) + " left" : ", longer than usual";
}

// Properties as rows; a property is [value, source] in the build views.
Json propertyRows(const Json& props) {
  Json rows = Json::array();
  if (!props.is_object()) return rows;
  for (auto it = props.begin(); it != props.end(); ++it) {
    const Json& v = it.value().is_array() && !it.value().empty() ? it.value()[0] : it.value();
    rows.push_back(Json{{"name", it.key()}, {"value", v.is_string() ? v.get<std::string>() : v.dump()}});
  }
  return rows;
}

// Named URLs ({name, url} or {name: url}): a link only when the URL is safe.
Json urlRows(const Json& urls) {
  Json rows = Json::array();
  auto add = [&](const std::string& name, const std::string& url) {
    // `href` is false for an unsafe URL, not "": the templates' {{#href}}
    // takes an empty string as true (it made <a href=""> of a javascript:
    // URL), and a missing key would be looked up in the outer contexts.
    const std::string href = safeHref(url);
    rows.push_back(Json{{"name", name}, {"url", url}, {"href", href.empty() ? Json(false) : Json(href)}});
  };
  if (urls.is_array()) {
    for (const auto& u : urls)
      if (u.is_object()) add(str(u, "name"), str(u, "url"));
  } else if (urls.is_object()) {
    for (auto it = urls.begin(); it != urls.end(); ++it)
      if (it.value().is_string()) add(it.key(), it.value().get<std::string>());
  }
  return rows;
}

}  // namespace

std::string basePath(const std::string& url) {
  const auto scheme = url.find("://");
  if (scheme == std::string::npos) return "";
  const auto slash = url.find('/', scheme + 3);
  if (slash == std::string::npos) return "";
  std::string p = url.substr(slash);
  while (!p.empty() && p.back() == '/') p.pop_back();
  return p;
}

std::string builderHref(const Site& site, const std::string& builder) {
  return site.base + "/builders/" + urlSegment(builder);
}
std::string buildHref(const Site& site, const std::string& builder, std::int64_t number) {
  return builderHref(site, builder) + "/builds/" + std::to_string(number);
}
std::string changeHref(const Site& site, std::int64_t id) {
  return site.base + "/changes/" + std::to_string(id);
}
std::string buildsetHref(const Site& site, std::int64_t id) {
  return site.base + "/buildsets/" + std::to_string(id);
}

Json Pages::read(const std::string& method, const Json& params) {
  try {
    return read_(method, params);
  } catch (const RpcError& e) {
    if (e.code == "not_found") throw PageNotFound(e.what());
    throw;
  }
}

Json Pages::changeRow(const Site& site, const Json& c) {
  const std::string rev = str(c, "revision");
  return Json{{"id", num(c, "id")},
              {"href", changeHref(site, num(c, "id"))},
              {"author", str(c, "author")},
              {"branch", str(c, "branch")},
              {"revision_short", rev.substr(0, 12)},
              {"comments", firstLine(str(c, "comments"), 120)},
              {"when_text", formatTime(num(c, "when"))}};
}

std::string Pages::front(const Site& site) {
  const Json st = read("status", Json{{"limit", 1}});
  const auto& cfg = config_();
  std::map<std::string, Json> slaveByName;
  int connected = 0;
  for (const auto& s : st["slaves"]) {
    slaveByName[str(s, "name")] = Json{{"name", str(s, "name")}, {"state", str(s, "state")}};
    if (str(s, "state") != "offline") ++connected;
  }
  Json builders = Json::array();
  std::int64_t pendingTotal = 0;
  for (const auto& b : st["builders"]) {
    const std::string name = str(b, "name");
    Json row{{"name", name},
             {"href", builderHref(site, name)},
             {"badge", site.base + "/badges/" + urlSegment(name) + ".svg"},
             {"pending_count", num(b, "pending_count")}};
    pendingTotal += num(b, "pending_count");
    if (!b["builds"].empty()) {
      const Json& l = b["builds"][0];
      row["last"] = Json{{"number", num(l, "number")},
                         {"href", buildHref(site, name, num(l, "number"))},
                         {"result", str(l, "result")},
                         {"text", str(l, "text")},
                         {"started", formatTime(num(l, "started_at"))}};
    }
    Json slaves = Json::array();
    if (const BuilderEntry* bc = cfg.findBuilder(name))
      for (const auto& s : bc->slaves)
        if (auto it = slaveByName.find(s); it != slaveByName.end()) slaves.push_back(it->second);
    row["slaves"] = std::move(slaves);
    builders.push_back(std::move(row));
  }
  Json changes = Json::array();
  for (const auto& c : db_.recentChanges(10)) changes.push_back(changeRow(site, changeView(c)));
  Json allSlaves = Json::array();
  for (auto& [name, s] : slaveByName) allSlaves.push_back(s);
  Json ctx{{"builders", builders},
           {"slaves", allSlaves},
           {"connected", connected},
           {"slave_count", allSlaves.size()},
           {"pending_total", pendingTotal},
           {"has_pending", pendingTotal > 0},
           {"changes", changes},
           {"storage", str(st, "storage")},
           {"retention", Json()}};
  if (std::string r = frontRetentionLine(st.value("retention", Json())); !r.empty()) ctx["retention"] = std::move(r);
  return renderPage("front", site.title, ctx, site);
}

std::string Pages::builder(const Site& site, const std::string& name, bool canControl) {
  if (!config_().findBuilder(name)) throw PageNotFound("no builder named '" + name + "'");
  const Json st = read("status", Json{{"builder", name}, {"limit", 50}});
  const Json& b = st["builders"][0];
  Json builds = Json::array();
  for (const auto& r : b["builds"]) {
    const Json props = r.value("properties", Json::object());
    builds.push_back(Json{{"number", num(r, "number")},
                          {"href", buildHref(site, name, num(r, "number"))},
                          {"result", str(r, "result")},
                          {"slave", str(r, "slave")},
                          {"started", formatTime(num(r, "started_at"))},
                          {"duration", durationOf(r) + etaText(r)},
                          {"text", str(r, "text")},
                          {"try", props.contains("try_job_id")}});
  }
  Json requests = Json::array();
  for (const auto& r : b["pending"])
    requests.push_back(Json{{"id", num(r, "id")},
                            {"builder", name},
                            {"builder_href", builderHref(site, name)},
                            {"buildset_id", num(r, "buildset_id")},
                            {"buildset_href", buildsetHref(site, num(r, "buildset_id"))},
                            {"priority", num(r, "priority")},
                            {"submitted", formatTime(num(r, "submitted_at"))},
                            {"retries", num(r, "retries")}});
  Json slaves = Json::array();
  for (const auto& s : st["slaves"])
    slaves.push_back(Json{{"name", str(s, "name")}, {"state", str(s, "state")}});
  Json force = Json::array();
  for (const auto& s : st["schedulers"]) {
    if (str(s, "type") != "force") continue;
    Json bs = Json::array();
    for (const auto& bn : s["builders"]) bs.push_back(Json{{"name", bn}});
    force.push_back(Json{{"name", str(s, "name")}, {"builders", bs}});
  }
  Json ctx{{"name", name},
           {"badge", site.base + "/badges/" + urlSegment(name) + ".svg"},
           {"slaves", slaves},
           {"builds", builds},
           {"requests", requests},
           {"can_control", canControl}};
  ctx["force_schedulers"] = std::move(force);
  return renderPage("builder", "Builder " + name, ctx, site);
}

Json Pages::buildContext(const Site& site, const Json& b, bool canControl) {
  const std::string builder = str(b, "builder");
  const Json props = b.value("properties", Json::object());
  auto prop = [&](const char* k) {
    auto it = props.find(k);
    if (it == props.end()) return std::string();
    const Json& v = it->is_array() && !it->empty() ? (*it)[0] : *it;
    return v.is_string() ? v.get<std::string>() : std::string();
  };
  Json ctx{{"builder", builder},
           {"builder_href", builderHref(site, builder)},
           {"number", num(b, "number")},
           {"result", str(b, "result")},
           {"text", str(b, "text")},
           {"slave", str(b, "slave")},
           {"started", formatTime(num(b, "started_at"))},
           {"finished_text", b.value("finished", false) ? formatTime(num(b, "finished_at")) +
                                                              " (" + durationOf(b) + ")"
                                                        : "running for " + durationOf(b) + etaText(b)},
           {"request_id", num(b, "request_id")},
           {"waiting", str(b, "waiting")},
           {"current_step", str(b, "current_step")},
           {"can_control", canControl && !b.value("finished", false)},
           {"try", props.contains("try_job_id")},
           {"owner", prop("owner")},
           {"comment", prop("try_comment")},
           {"properties", propertyRows(props)}};
  ctx["urls"] = urlRows(b.value("urls", Json()));
  ctx["has_urls"] = !ctx["urls"].empty();
  if (const Json& tb = b.value("triggered_by", Json()); tb.is_object())
    ctx["triggered_by"] = Json{{"builder", str(tb, "builder")},
                               {"number", num(tb, "number")},
                               {"href", buildHref(site, str(tb, "builder"), num(tb, "number"))}};
  Json triggered = Json::array();
  for (const auto& bs : b.value("triggered", Json::array()))
    for (const auto& r : bs["requests"])
      for (const auto& c : r["builds"])
        triggered.push_back(Json{{"builder", str(r, "builder")},
                                 {"number", num(c, "number")},
                                 {"result", str(c, "result")},
                                 {"href", buildHref(site, str(r, "builder"), num(c, "number"))}});
  ctx["has_triggered"] = !triggered.empty();
  ctx["triggered"] = std::move(triggered);
  Json artifacts = Json::array();
  for (const auto& a : b.value("artifacts", Json::array())) {
    Json row{{"name", str(a, "name")},
             {"kind", str(a, "kind")},
             {"size", num(a, "size")},
             {"sha256", str(a, "sha256")}};
    // One the retention janitor deleted says so instead of linking a 410.
    if (a.contains("removed")) {
      row["removed"] = str(a["removed"], "text");
      row["href"] = Json();  // null: false, not looked up further out
    } else {
      row["href"] = site.base + "/" + str(a, "url");
    }
    artifacts.push_back(std::move(row));
  }
  ctx["has_artifacts"] = !artifacts.empty();
  ctx["artifacts"] = std::move(artifacts);
  if (b.contains("logs_removed")) ctx["logs_removed"] = str(b["logs_removed"], "text");
  Json steps = Json::array();
  const std::string href = buildHref(site, builder, num(b, "number"));
  for (const auto& s : b.value("steps", Json::array())) {
    Json logs = Json::array();
    for (const auto& l : s["logs"])
      logs.push_back(Json{{"name", str(l, "name")},
                          {"href", href + "/steps/" + std::to_string(num(s, "number")) + "/logs/" +
                                       urlSegment(str(l, "name"))}});
    Json urls = urlRows(s.value("urls", Json()));
    steps.push_back(Json{{"number", num(s, "number")},
                         {"name", str(s, "name")},
                         {"result", str(s, "result")},
                         {"text", str(s, "text")},
                         {"duration", durationOf(s)},
                         {"has_logs", !logs.empty()},
                         {"logs", logs},
                         {"has_urls", !urls.empty()},
                         {"urls", urls}});
  }
  ctx["steps"] = std::move(steps);
  if (const Json& f = b.value("failure", Json()); f.is_object())
    ctx["failure"] = Json{{"step", num(f, "step")},
                          {"name", str(f, "name")},
                          {"text", str(f, "text")},
                          {"tail_html", ansiToHtml(str(f, "log_tail"))}};
  return ctx;
}

std::string Pages::build(const Site& site, const std::string& builder, int number, bool canControl) {
  const Json r = read("build", Json{{"builder", builder}, {"number", number}});
  Json ctx = buildContext(site, r["build"], canControl);
  if (!r["build"].value("finished", false)) {
    ctx["live"] = true;
    // The running step's first log, live: its last lines now, the rest as
    // they are stored (bb.js asks logTail for them).
    const Json& steps = r["build"]["steps"];
    for (auto s = steps.rbegin(); s != steps.rend(); ++s) {
      if (s->value("finished", true) || (*s)["logs"].empty()) continue;
      const Json& l = (*s)["logs"][0];
      const std::int64_t id = num(l, "id");
      Json tail = logTail(id, std::max<std::int64_t>(0, num(l, "bytes") - 64 * 1024));
      ctx["live_log"] = Json{{"step", num(*s, "number")}, {"step_name", str(*s, "name")},
                             {"name", str(l, "name")}, {"log_id", id},
                             {"next", tail["next"]}, {"html", tail["html"]}};
      break;
    }
  }
  return renderPage("build", builder + " #" + std::to_string(number), ctx, site);
}

std::string Pages::change(const Site& site, std::int64_t id) {
  const Json r = read("change_status", Json{{"change_id", id}});
  const Json& c = r["change"];
  Json ctx = changeRow(site, c);
  ctx["revision"] = str(c, "revision");
  ctx["repository"] = str(c, "repository");
  ctx["source"] = str(c, "source");
  ctx["comments"] = str(c, "comments");
  ctx["files"] = c.value("files", Json::array());
  Json scheds = Json::array();
  for (const auto& s : r["schedulers"]) {
    Json row{{"scheduler", str(s, "scheduler")}, {"type", str(s, "type")}, {"state", str(s, "state")}};
    // What the scheduler says besides its state (why it ignored the
    // change, what it waits for), as one readable line.
    std::string details;
    for (auto it = s.begin(); it != s.end(); ++it) {
      if (it.key() == "scheduler" || it.key() == "type" || it.key() == "state" ||
          it.key() == "buildsets")
        continue;
      details += (details.empty() ? "" : "; ") + it.key() + ": " +
                 (it.value().is_string() ? it.value().get<std::string>() : it.value().dump());
    }
    row["details"] = details;
    Json sets = Json::array();
    for (const auto& bs : s.value("buildsets", Json::array()))
      sets.push_back(Json{{"id", num(bs, "id")},
                          {"href", buildsetHref(site, num(bs, "id"))},
                          {"result", str(bs, "result")}});
    row["buildsets"] = sets;
    scheds.push_back(std::move(row));
  }
  ctx["schedulers"] = scheds;
  return renderPage("change", "Change " + std::to_string(id), ctx, site);
}

std::string Pages::changes(const Site& site) {
  Json rows = Json::array();
  for (const auto& c : db_.recentChanges(100)) rows.push_back(changeRow(site, changeView(c)));
  return renderPage("changes", "Changes", Json{{"changes", rows}}, site);
}

std::string Pages::buildset(const Site& site, std::int64_t id) {
  const Json r = read("buildset", Json{{"id", id}});
  const Json& bs = r["buildset"];
  Json reqs = Json::array();
  for (const auto& q : bs["requests"]) {
    Json builds = Json::array();
    for (const auto& b : q["builds"])
      builds.push_back(Json{{"number", num(b, "number")},
                            {"href", buildHref(site, str(q, "builder"), num(b, "number"))}});
    reqs.push_back(Json{{"id", num(q, "id")},
                        {"builder", str(q, "builder")},
                        {"builder_href", builderHref(site, str(q, "builder"))},
                        {"priority", num(q, "priority")},
                        {"result", str(q, "result")},
                        {"text", str(q, "text")},
                        {"builds", builds}});
  }
  Json ctx{{"result", str(bs, "result")},
           {"scheduler", str(bs, "scheduler")},
           {"reason", str(bs, "reason")},
           {"requests", reqs}};
  return renderPage("buildset", "BuildSet " + std::to_string(id), ctx, site);
}

std::string Pages::buildsets(const Site& site) {
  Json rows = Json::array();
  for (const auto& bs : db_.recentBuildsets(100))
    rows.push_back(Json{{"id", bs.id},
                        {"href", buildsetHref(site, bs.id)},
                        {"scheduler", bs.scheduler},
                        {"reason", bs.reason},
                        {"result", resultText(bs.complete, bs.result, "pending")}});
  return renderPage("buildsets", "BuildSets", Json{{"buildsets", rows}}, site);
}

std::string Pages::requests(const Site& site, bool canControl) {
  // In the order the distributor takes them (db::pendingRequests' order).
  Json rows = Json::array();
  for (const auto& r : db_.pendingRequests()) {
    if (rows.size() >= 500) break;
    rows.push_back(Json{{"id", r.id},
                        {"builder", r.builder},
                        {"builder_href", builderHref(site, r.builder)},
                        {"buildset_id", r.buildsetId},
                        {"buildset_href", buildsetHref(site, r.buildsetId)},
                        {"priority", r.priority},
                        {"submitted", formatTime(r.submittedAt)},
                        {"retries", r.retries}});
  }
  return renderPage("requests", "Build request queue",
                    Json{{"requests", rows}, {"can_control", canControl}}, site);
}

std::string Pages::slaves(const Site& site, bool canStop) {
  const Json st = read("status", Json{{"limit", 1}});
  Json rows = Json::array();
  for (const auto& s : st["slaves"]) {
    Json row = s;
    const double backoff = s.value("backoff_seconds", 0.0);
    row["backoff"] = backoff > 0 ? std::to_string(static_cast<int>(backoff)) + " s" : "";
    row["can_stop"] = canStop && str(s, "state") == "connected";
    rows.push_back(std::move(row));
  }
  return renderPage("slaves", "Slaves", Json{{"slaves", rows}}, site);
}

std::string Pages::locks(const Site& site, const Json& locks) {
  Json rows = Json::array();
  for (const auto& l : locks) {
    Json holders = Json::array();
    for (const auto& i : l["instances"]) {
      const std::string instance = str(i, "slave").empty() ? "master" : "slave " + str(i, "slave");
      for (const auto& h : i["holders"])
        holders.push_back(Json{{"instance", instance}, {"owner", str(h, "owner")}, {"mode", str(h, "mode")},
                               {"since", formatTime(num(h, "since"))}});
    }
    // Holds of the other masters on a shared database (docs/multimaster.md).
    if (l.contains("elsewhere"))
      for (const auto& h : l["elsewhere"])
        holders.push_back(Json{{"instance", "on master " + str(h, "master")}, {"owner", str(h, "owner")},
                               {"mode", str(h, "mode")}, {"since", formatTime(num(h, "since"))}});
    Json waiting = Json::array();
    for (const auto& w : l["waiting"]) {
      std::string wants, blocked;
      for (const auto& x : w["wants"]) wants += (wants.empty() ? "" : ", ") + str(x, "lock") + " (" + str(x, "mode") + ")";
      for (const auto& b : w["blocked_by"]) {
        std::string owners;
        for (const auto& o : b["owners"]) owners += (owners.empty() ? "" : ", ") + o.get<std::string>();
        const std::string elsewhere = b.contains("elsewhere") ? str(b, "elsewhere") : "";
        if (!elsewhere.empty()) owners += (owners.empty() ? "" : ", ") + elsewhere;
        blocked += (blocked.empty() ? "" : "; ") + str(b, "lock") + (owners.empty() ? "" : ": " + owners);
      }
      waiting.push_back(Json{{"owner", str(w, "owner")}, {"slave", str(w, "slave")}, {"wants", wants},
                             {"blocked_by", blocked}, {"since", formatTime(num(w, "since"))}});
    }
    rows.push_back(Json{{"name", str(l, "name")},
                        {"scope", str(l, "scope")},
                        {"max_count", num(l, "max_count")},
                        {"holders", std::move(holders)},
                        {"has_waiting", !waiting.empty()},
                        {"waiting", std::move(waiting)}});
  }
  return renderPage("locks", "Locks", Json{{"locks", rows}}, site);
}

}  // namespace bb::web
