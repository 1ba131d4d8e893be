#include "master/reporters/http_push_config.hpp"

#include <algorithm>
#include <cctype>
#include <memory>

#include "config/yaml_util.hpp"

namespace bb {

namespace {

constexpr int kEventTypeCount = static_cast<int>(EventType::SchedulerState) + 1;

std::string knownEvents() {
  std::string out;
  for (const auto& t : allTopics()) out += (out.empty() ? "" : ", ") + t;
  return out + ", or one event such as build.finished (docs/architecture.md, \"Events\")";
}

// Headers the push sets itself (or curl does) are not the config's to give.
bool reservedHeader(std::string name) {
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  return name == "content-type" || name == "content-length" || name == "host" ||
         name.rfind("x-buildbot-", 0) == 0;
}

bool headerNameOk(const std::string& name) {
  if (name.empty()) return false;
  for (unsigned char c : name)
    if (!(std::isalnum(c) || c == '-' || c == '_')) return false;
  return true;
}

}  // namespace

std::optional<EventType> eventTypeFromString(std::string_view name) {
  for (int i = 0; i < kEventTypeCount; ++i)
    if (toString(static_cast<EventType>(i)) == name) return static_cast<EventType>(i);
  return std::nullopt;
}

bool parseHttpPushReporter(cfg::MapReader& r, cfg::MasterParse& p, ReporterEntry& e) {
  std::vector<std::string> keys{"name", "type", "url", "events", "secret", "headers"};
  for (const auto& k : httpReporterKeys()) keys.push_back(k);
  r.allowKeys(keys);
  auto o = std::make_shared<HttpPushOptions>();
  bool ok = readHttpReporterKeys(r, p, *o);
  if (auto url = r.string("url", true)) {
    if (auto bad = checkHttpUrl(*url); !bad.empty()) {
      r.error(r.markOf("url"), "url '" + *url + "' " + bad);
      ok = false;
    }
    o->url = *url;
  } else {
    ok = false;
  }
  if (auto list = r.stringList("events", true)) {
    YAML::Node node = r.value("events");
    if (list->empty()) {
      r.error(r.markOf("events"), "events must name at least one topic or event: " + knownEvents());
      ok = false;
    }
    for (std::size_t i = 0; i < list->size(); ++i) {
      const std::string& name = (*list)[i];
      const auto& topics = allTopics();
      if (std::find(topics.begin(), topics.end(), name) != topics.end()) {
        for (int t = 0; t < kEventTypeCount; ++t)
          if (topicOf(static_cast<EventType>(t)) == name) o->events.insert(static_cast<EventType>(t));
      } else if (auto t = eventTypeFromString(name)) {
        o->events.insert(*t);
      } else {
        r.error(node[i].Mark(), "events: unknown topic or event '" + name + "'; known: " + knownEvents());
        ok = false;
      }
    }
  } else {
    ok = false;
  }
  if (r.has("secret")) {
    if (auto s = readSecretKey(r, p, "secret", false)) o->secret = *s;
    else ok = false;
  }
  if (auto h = r.stringMap("headers")) {
    for (const auto& [name, value] : *h) {
      if (!headerNameOk(name) || reservedHeader(name) || value.find_first_of("\r\n") != std::string::npos) {
        r.error(r.markOf("headers"), "headers: '" + name + "' cannot be set here (a header name is letters, "
                                     "digits, - and _; Content-Type, Host and X-Buildbot-* are the push's own; "
                                     "values are one line)");
        ok = false;
      }
      // A value may carry a secret: "Authorization: Bearer %(secret:hook_token)s".
      cfg::checkSecretInterpolation(r, p, r.markOf("headers"), "headers: " + name, value);
    }
    o->headers = *h;
  } else if (r.has("headers")) {
    ok = false;
  }
  e.options = std::move(o);
  return ok;
}

}  // namespace bb
