#include "client/status_format.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <ctime>

namespace bb::client {

std::string cellText(const Json& v) {
  if (v.is_null()) return "-";
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "yes" : "no";
  return v.dump();
}

std::string formatTimestamp(const Json& t) {
  if (t.is_string()) return t.get<std::string>();
  if (!t.is_number()) return "-";
  const double secs = t.get<double>();
  if (!std::isfinite(secs) || secs <= 0) return "-";
  const std::time_t tt = static_cast<std::time_t>(secs);
  std::tm tm{};
  if (localtime_r(&tt, &tm) == nullptr) return std::to_string(static_cast<long long>(secs));
  char buf[32];
  if (std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm) == 0)
    return std::to_string(static_cast<long long>(secs));
  return buf;
}

std::string formatDuration(const Json& start, const Json& end) {
  if (!start.is_number() || !end.is_number()) return "-";
  double d = end.get<double>() - start.get<double>();
  if (!std::isfinite(d) || d < 0) return "-";
  const long long total = static_cast<long long>(std::llround(d));
  const long long h = total / 3600, m = (total % 3600) / 60, s = total % 60;
  char buf[48];
  if (h > 0)
    std::snprintf(buf, sizeof buf, "%lldh %02lldm", h, m);
  else if (m > 0)
    std::snprintf(buf, sizeof buf, "%lldm %02llds", m, s);
  else
    std::snprintf(buf, sizeof buf, "%llds", s);
  return buf;
}

std::string displayResult(const Json& item) {
  if (!item.is_object()) return "-";
  auto fin = item.find("finished");
  const bool finished = fin == item.end() || !fin->is_boolean() || fin->get<bool>();
  if (!finished) {
    // A build waiting for locks says for what and who holds them.
    auto waiting = item.find("waiting");
    if (waiting != item.end() && waiting->is_string()) return "running, " + cellText(*waiting);
    return "running";
  }
  auto res = item.find("result");
  if (res == item.end() || res->is_null()) return "-";
  if (auto t = item.find("try"); t != item.end() && t->is_object()) {
    Json plain = item;
    plain.erase("try");
    const std::string owner = t->value("owner", std::string()), comment = t->value("comment", std::string());
    return displayResult(plain) + " [try" + (owner.empty() ? "" : " by " + owner) +
           (comment.empty() ? "" : ": " + cellText(comment.substr(0, comment.find('\n')))) + "]";
  }
  // A retried build whose request has ended since: the request's outcome.
  auto req = item.find("request");
  if (req != item.end() && req->is_object())
    return cellText(*res) + "; request " + cellText(req->value("id", Json())) + " ended " +
           cellText(req->value("result", Json())) +
           (req->value("text", std::string()).empty() ? "" : ": " + cellText(req->value("text", Json())));
  return cellText(*res);
}

std::string formatTriggerLinks(const Json& build) {
  std::string out;
  if (!build.is_object()) return out;
  if (auto by = build.find("triggered_by"); by != build.end() && by->is_object())
    out += "  triggered by " + cellText(by->value("builder", Json())) + " #" +
           cellText(by->value("number", Json())) + "\n";
  auto sets = build.find("triggered");
  if (sets == build.end() || !sets->is_array()) return out;
  for (const auto& bs : *sets) {
    if (!bs.is_object()) continue;
    const std::string where = " (buildset " + cellText(bs.value("buildset_id", Json())) +
                              ", scheduler " + cellText(bs.value("scheduler", Json())) + ")";
    for (const auto& r : bs.value("requests", Json::array())) {
      if (!r.is_object()) continue;
      const std::string builder = cellText(r.value("builder", Json()));
      const Json builds = r.value("builds", Json::array());
      if (!builds.is_array() || builds.empty()) {
        // No build (yet): "pending", or why it ended without one.
        out += "  triggered " + builder + ": " + cellText(r.value("result", Json("pending"))) +
               where + "\n";
        continue;
      }
      for (const auto& b : builds)
        out += "  triggered " + builder + " #" + cellText(b.value("number", Json())) + ": " +
               displayResult(b) + where + "\n";
    }
  }
  return out;
}

std::string formatArtifacts(const Json& build) {
  std::string out;
  if (!build.is_object()) return out;
  auto list = build.find("artifacts");
  if (list == build.end() || !list->is_array()) return out;
  for (const auto& a : *list) {
    if (!a.is_object()) continue;
    out += "  artifact " + cellText(a.value("name", Json())) + " (" + cellText(a.value("kind", Json())) + ", " +
           cellText(a.value("size", Json())) + " bytes, sha256 " + cellText(a.value("sha256", Json())) + ")";
    if (auto r = a.find("removed"); r != a.end() && r->is_object()) out += ": " + r->value("text", std::string("removed"));
    out += "\n";
  }
  if (auto r = build.find("logs_removed"); r != build.end() && r->is_object())
    out += "  logs " + r->value("text", std::string("removed")) + "\n";
  return out;
}

std::string formatRetention(const Json& r) {
  if (!r.is_object()) return "";
  const Json last = r.value("last_run", Json());
  const bool enabled = r.value("enabled", false);
  if (!enabled && !last.is_object()) return "";
  std::string out = "Retention: ";
  if (!last.is_object()) {
    out += "no round yet";
  } else {
    out += "last run " + formatTimestamp(last.value("started_at", Json())) + ": removed " +
           cellText(last.value("artifacts", Json(0))) + " artifact(s) (" + cellText(last.value("artifact_bytes", Json(0))) +
           " bytes), the logs of " + cellText(last.value("log_builds", Json(0))) + " build(s) (" +
           cellText(last.value("log_bytes", Json(0))) + " bytes)";
    std::string rules;
    const Json byRule = last.value("by_rule", Json::object());
    for (const auto& [rule, n] : byRule.items())
      rules += (rules.empty() ? "" : ", ") + rule + ": " + cellText(n);
    if (!rules.empty()) out += " [" + rules + "]";
    if (const std::string err = last.value("error", std::string()); !err.empty()) out += "; stopped early: " + err;
  }
  if (!enabled) out += "; retention is off";
  else if (r.value("running", false)) out += "; a round is running";
  else if (r.contains("next_run_at") && r["next_run_at"].is_number())
    out += "; next " + formatTimestamp(r["next_run_at"]);
  return out + "\n";
}

std::string formatSchedulerLine(const Json& s) {
  if (!s.is_object()) return "-";
  std::vector<std::string> parts;
  const auto has = [&](const char* key) { return s.contains(key) && !s[key].is_null(); };
  if (has("config_error")) parts.push_back("not running: " + cellText(s["config_error"]));
  if (has("next_fire_local")) {
    std::string tz = s.value("timezone", std::string("UTC"));
    parts.push_back("next run " + cellText(s["next_fire_local"]) + (tz == "UTC" ? "" : " " + tz));
  } else if (s.contains("next_fire_at") && !has("config_error")) {
    parts.push_back("no run planned");
  }
  if (has("stable_at")) parts.push_back("tree stable at " + formatTimestamp(s["stable_at"]));
  if (has("held_changes") && s["held_changes"].is_array() && !s["held_changes"].empty()) {
    const Json& held = s["held_changes"];
    const Json total = s.value("held_count", Json(held.size()));
    const std::size_t n = total.is_number_integer() && total.get<std::int64_t>() >= 0
                              ? total.get<std::size_t>()
                              : held.size();
    std::string ids;
    for (std::size_t i = 0; i < held.size() && i < 10; ++i)
      ids += (i ? ", " : "") + cellText(held[i]);
    if (n > 10) ids += ", ...";
    parts.push_back(std::to_string(n) + (n == 1 ? " change" : " changes") + " held (" +
                    (n == 1 ? "id " : "ids ") + ids + ")");
  }
  if (has("upstream")) parts.push_back("after " + cellText(s["upstream"]) + " succeeds");
  if (has("started_by")) parts.push_back("started by " + cellText(s["started_by"]));
  if (has("fields")) parts.push_back("builds on request");
  if (has("last_error")) parts.push_back("last error: " + cellText(s["last_error"]));
  std::string line = cellText(s.value("name", Json())) + " (" + cellText(s.value("type", Json())) + "): ";
  if (parts.empty()) return line + "idle";
  for (std::size_t i = 0; i < parts.size(); ++i) line += (i ? ", " : "") + parts[i];
  return line;
}

std::string formatTable(const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> widths;
  for (const auto& row : rows) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (std::size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

std::string formatFailure(const std::string& what, const Json& failure) {
  std::string out = what + " " + (failure.value("result", "failure") == "exception"
                                      ? "ended with an exception"
                                      : "failed") +
                    " in step " + cellText(failure.value("step", Json())) + " '" +
                    cellText(failure.value("name", Json())) + "'";
  const std::string text = failure.value("text", "");
  out += text.empty() ? "\n" : ": " + text + "\n";
  const std::string tail = failure.value("log_tail", "");
  if (tail.empty()) return out;
  out += "  last lines of its " + cellText(failure.value("log", Json("log"))) + " log:\n";
  std::size_t start = 0;
  while (start < tail.size()) {
    auto end = tail.find('\n', start);
    if (end == std::string::npos) end = tail.size();
    out += "    " + tail.substr(start, end - start) + "\n";
    start = end + 1;
  }
  return out;
}

}  // namespace bb::client
