#include "client/event_format.hpp"

#include <ctime>

#include "client/status_format.hpp"

namespace bb::client {

namespace {

std::string clockTime(const Json& e) {
  const auto it = e.find("time_ms");
  if (it == e.end() || !it->is_number_integer()) return "--:--:--.---";
  const std::int64_t ms = it->get<std::int64_t>();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  localtime_r(&secs, &tm);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%02d:%02d:%02d.%03d", tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

std::string text(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return "";
  return cellText(*it);
}

// "b1 #3" for events of a build.
std::string buildName(const Json& e, const Json& d) {
  std::string s = text(e, "builder");
  if (d.contains("number")) s += " #" + text(d, "number");
  return s;
}

std::string stepName(const Json& e, const Json& d) {
  return buildName(e, d) + " step " + text(d, "step") + " " + text(d, "name");
}

std::string describe(const std::string& type, const Json& e, const Json& d) {
  if (type == "change.added")
    return "change " + text(e, "change_id") + " on " + text(d, "branch") + " " +
           text(d, "revision").substr(0, 12) + " by " + text(d, "author") + " (" +
           text(d, "source") + ")";
  if (type == "buildset.created") {
    std::string reqs;
    if (auto r = d.find("requests"); r != d.end() && r->is_object())
      for (const auto& [b, id] : r->items()) reqs += (reqs.empty() ? "" : ", ") + b + " " + cellText(id);
    return "buildset " + text(e, "buildset_id") + " by " + text(e, "scheduler") + ": " +
           text(d, "reason") + (reqs.empty() ? "" : "; requests " + reqs);
  }
  if (type == "buildset.completed")
    return "buildset " + text(e, "buildset_id") + " (" + text(e, "scheduler") + ") complete: " +
           text(d, "result");
  if (type.rfind("request.", 0) == 0) {
    std::string s = "request " + text(e, "request_id") + " on " + text(e, "builder");
    if (type == "request.claimed") s += " claimed for slave " + text(e, "slave");
    if (type == "request.completed") s += ": " + text(d, "result");
    if (type == "request.cancelled") s += " cancelled by " + text(d, "by");
    if (type == "request.collapsed") s += " collapsed into request " + text(d, "replaced_by");
    if (type == "request.priority") s += " priority " + text(d, "priority");
    if (type == "request.unclaimed") s += " back in the queue";
    return s;
  }
  if (type == "build.started") return buildName(e, d) + " started on " + text(e, "slave");
  if (type == "build.finished")
    return buildName(e, d) + ": " + text(d, "result") + " (" + text(d, "text") + ")";
  if (type == "step.started") return stepName(e, d) + " started";
  if (type == "step.finished")
    return stepName(e, d) + ": " + text(d, "result") + " (" + text(d, "text") + ")";
  if (type == "step.urls") {
    std::string urls;
    if (auto u = d.find("urls"); u != d.end() && u->is_array())
      for (const auto& x : *u) urls += (urls.empty() ? "" : ", ") + text(x, "name") + " " + text(x, "url");
    return stepName(e, d) + " URLs: " + urls;
  }
  if (type == "log.lines")
    return buildName(e, d) + " step " + text(d, "step") + " log " + text(d, "log_id") +
           ": bytes " + text(d, "first_byte") + ".." + text(d, "end_byte") + ", " +
           text(d, "newlines") + " line(s)";
  if (type.rfind("slave.", 0) == 0) {
    std::string s = "slave " + text(e, "slave");
    if (type == "slave.attached") return s + " attached from " + text(d, "peer");
    if (type == "slave.detached") return s + " detached: " + text(d, "reason");
    if (type == "slave.draining")
      return s + " draining (" + text(d, "running") + " build(s) left)" +
             (d.contains("reason") ? ": " + text(d, "reason") : "");
    if (d.value("ended", false)) return s + " back-off over";
    return s + " backed off for " + text(d, "seconds") + " s";
  }
  if (type.rfind("lock.", 0) == 0) {
    std::string locks;
    if (auto l = d.find("locks"); l != d.end() && l->is_array())
      for (const auto& x : *l) locks += (locks.empty() ? "" : ", ") + text(x, "lock") + " (" + text(x, "access") + ")";
    if (type == "lock.waiting") return buildName(e, d) + " " + text(d, "why");
    return buildName(e, d) + (type == "lock.acquired" ? " took " : " released ") + locks;
  }
  if (type == "scheduler.state") return "scheduler " + text(e, "scheduler") + ": " + d.dump();
  return d.dump();
}

}  // namespace

std::string formatEvent(const Json& event) {
  if (!event.is_object()) return "?";
  const std::string type = text(event, "type");
  const Json data = event.contains("data") && event["data"].is_object() ? event["data"] : Json::object();
  std::string pad = type.size() < 18 ? std::string(18 - type.size(), ' ') : " ";
  std::string line = clockTime(event) + " " + type + pad + describe(type, event, data);
  if (event.value("other_master", false)) line += " [another master]";
  return line;
}

}  // namespace bb::client
