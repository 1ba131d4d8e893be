#pragma once
// The settings of the generic HTTP push reporter (`type: http_push`) and
// their config check. docs/notifiers.md describes each key.
#include <map>
#include <set>
#include <string>

#include "master/events/event.hpp"
#include "master/reporters/http_reporter_config.hpp"

namespace bb {

struct HttpPushOptions : HttpReporterOptions {
  std::string url;
  std::set<EventType> events;  // what is pushed (topics expanded to their types)
  std::string secret;          // "%(secret:NAME)s", or empty: no signature
  std::map<std::string, std::string> headers;  // extra request headers
};

// The event type named `name` ("build.finished"), or nullopt.
std::optional<EventType> eventTypeFromString(std::string_view name);

bool parseHttpPushReporter(cfg::MapReader& r, cfg::MasterParse& p, ReporterEntry& e);

}  // namespace bb
