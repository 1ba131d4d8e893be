#include "master/cluster/status_relay.hpp"

#include <algorithm>
#include <charconv>
#include <utility>

#include "common/results.hpp"
#include "master/db/database.hpp"
#include "master/events/event_bus.hpp"

namespace bb {

namespace {

// Each relayed event type and the letter of its tokens.
constexpr std::pair<EventType, char> kLetters[] = {
    {EventType::BuildsetCreated, 'c'}, {EventType::BuildStarted, 's'},  {EventType::StepStarted, 't'},
    {EventType::StepFinished, 'u'},    {EventType::BuildFinished, 'f'}, {EventType::LogLines, 'l'},
};

char letterOf(EventType t) {
  for (const auto& [type, letter] : kLetters)
    if (type == t) return letter;
  return 0;
}

std::optional<EventType> typeOf(char letter) {
  for (const auto& [type, l] : kLetters)
    if (l == letter) return type;
  return std::nullopt;
}

}  // namespace

bool StatusRelay::heardEverywhere(EventType t) {
  return letterOf(t) != 0 || t == EventType::RequestCreated || t == EventType::BuildsetCompleted;
}

std::int64_t StatusRelay::rowIdOf(const Event& e) {
  switch (e.type) {
    case EventType::BuildsetCreated:
    case EventType::BuildsetCompleted: return e.buildsetId;
    case EventType::RequestCreated: return e.requestId;
    case EventType::BuildStarted:
    case EventType::BuildFinished: return e.buildId;
    case EventType::StepStarted:
    case EventType::StepFinished: return e.data.value("step_id", std::int64_t{0});
    case EventType::LogLines: return e.data.value("log_id", std::int64_t{0});
    default: return 0;
  }
}

std::optional<std::string> StatusRelay::tokenFor(const Event& e) {
  if (e.fromOtherMaster) return std::nullopt;  // never echoed back
  const char letter = letterOf(e.type);
  const std::int64_t id = rowIdOf(e);
  if (!letter || id <= 0) return std::nullopt;  // id 0: a build that never got its row
  std::string token = std::string(1, letter) + std::to_string(id);
  if (e.type == EventType::LogLines)
    for (const char* key : {"first_byte", "end_byte", "newlines"})
      token += "." + std::to_string(e.data.value(key, std::int64_t{0}));
  return token;
}

bool StatusRelay::mayBeWanted(EventType type) const {
  // buildset.created brings its request.created.
  return events_.anyoneMayWant(type, /*fromOtherMaster=*/true) ||
         (type == EventType::BuildsetCreated && events_.anyoneMayWant(EventType::RequestCreated, true));
}

bool StatusRelay::anyMayBeWanted() const {
  for (const auto& [type, letter] : kLetters)
    if (mayBeWanted(type)) return true;
  return false;
}

bool StatusRelay::relay(const std::string& token, std::string& why) {
  if (!token.empty() && token[0] == 'l') return logLines(token, why);
  std::int64_t id = 0;
  const char* p = token.data();
  if (token.size() < 2 || std::from_chars(p + 1, p + token.size(), id).ptr != p + token.size() || id <= 0) {
    why = "malformed token '" + token + "'";
    return false;
  }
  // Nobody here who may take the event (no watcher, event stream or
  // reporter of other masters' builds): its rows are not read at all.
  if (const auto type = typeOf(token[0]); type && !mayBeWanted(*type)) return true;
  switch (token[0]) {
    case 'c': return buildset(id, why);
    case 's': return build(EventType::BuildStarted, id, why);
    case 'f': return build(EventType::BuildFinished, id, why);
    case 't': return step(EventType::StepStarted, id, why);
    case 'u': return step(EventType::StepFinished, id, why);
    default: why = "unknown token kind '" + token + "'"; return false;
  }
}

namespace {

// The keys Build::publish sets on every event of a build.
Event buildEvent(db::Database& db, EventType type, const db::BuildRecord& b) {
  Event e;
  e.type = type;
  e.fromOtherMaster = true;
  e.builder = b.builder;
  e.slave = b.slave;
  e.buildId = b.id;
  e.requestId = b.requestId;
  if (b.requestId)
    if (auto r = db.getRequest(b.requestId)) e.buildsetId = r->buildsetId;
  e.data = Json{{"number", b.number}};
  return e;
}

}  // namespace

bool StatusRelay::build(EventType type, std::int64_t buildId, std::string& why) {
  auto b = db_.getBuild(buildId);
  if (!b) {
    why = "build " + std::to_string(buildId) + " is not in the database";
    return false;
  }
  Event e = buildEvent(db_, type, *b);
  if (type == EventType::BuildStarted) {
    e.data["slave"] = b->slave;
  } else {
    if (!b->finished) {
      why = "build " + std::to_string(buildId) + " is announced finished but its row is not";
      return false;
    }
    double lockWait = 0;
    if (auto it = b->properties.find("lock_wait_seconds");
        it != b->properties.end() && it->is_array() && !it->empty() && (*it)[0].is_number())
      lockWait = (*it)[0].get<double>();
    e.data["result"] = std::string(toString(b->result));
    e.data["text"] = b->text;
    e.data["duration_seconds"] = b->startedAt > 0 ? std::max<std::int64_t>(0, b->finishedAt - b->startedAt) : 0;
    e.data["lock_wait_seconds"] = lockWait;
  }
  events_.publish(std::move(e));
  return true;
}

bool StatusRelay::logLines(const std::string& token, std::string& why) {
  // l<log>.<first>.<end>.<newlines>
  std::int64_t n[4] = {};
  const char* p = token.data() + 1;
  const char* end = token.data() + token.size();
  for (int i = 0; i < 4; ++i) {
    const auto r = std::from_chars(p, end, n[i]);
    const bool last = i == 3;
    if (r.ec != std::errc() || n[i] < 0 || (last ? r.ptr != end : (r.ptr == end || *r.ptr != '.'))) {
      why = "malformed token '" + token + "'";
      return false;
    }
    p = r.ptr + 1;
  }
  if (n[0] <= 0 || n[2] < n[1]) {
    why = "malformed token '" + token + "'";
    return false;
  }
  if (!mayBeWanted(EventType::LogLines)) return true;  // nobody watches
  auto it = logKeys_.find(n[0]);
  if (it == logKeys_.end()) {
    auto log = db_.getLog(n[0]);
    auto s = log ? db_.getStep(log->stepId) : std::nullopt;
    auto b = s ? db_.getBuild(s->buildId) : std::nullopt;
    if (!log || !s || !b) {
      why = "log " + std::to_string(n[0]) + " (or its step or build) is not in the database";
      return false;
    }
    constexpr std::size_t kKeptLogs = 1024;
    if (logKeys_.size() >= kKeptLogs) logKeys_.clear();
    LogKeys keys{buildEvent(db_, EventType::LogLines, *b), s->id};
    keys.event.data["step"] = s->number;  // with the build's "number"
    it = logKeys_.emplace(n[0], std::move(keys)).first;
  }
  // The data of Build's own log.lines event.
  Event e = it->second.event;
  e.data["log_id"] = n[0];
  e.data["first_byte"] = n[1];
  e.data["end_byte"] = n[2];
  e.data["newlines"] = n[3];
  events_.publish(std::move(e));
  return true;
}

bool StatusRelay::step(EventType type, std::int64_t stepId, std::string& why) {
  auto s = db_.getStep(stepId);
  auto b = s ? db_.getBuild(s->buildId) : std::nullopt;
  if (!s || !b) {
    why = "step " + std::to_string(stepId) + " (or its build) is not in the database";
    return false;
  }
  Event e = buildEvent(db_, type, *b);
  e.data["step"] = s->number;
  e.data["name"] = s->name;
  e.data["step_id"] = s->id;
  if (type == EventType::StepStarted) {
    std::int64_t logId = 0;
    for (const auto& l : db_.logsForStep(stepId))
      if (l.name == "stdio") logId = l.id;
    e.data["log_id"] = logId;
  } else {
    e.data["result"] = std::string(toString(s->result));
    e.data["text"] = s->text;
    std::erase_if(logKeys_, [stepId](const auto& kv) { return kv.second.stepId == stepId; });
  }
  events_.publish(std::move(e));
  return true;
}

bool StatusRelay::buildset(std::int64_t buildsetId, std::string& why) {
  auto bs = db_.getBuildset(buildsetId);
  if (!bs) {
    why = "buildset " + std::to_string(buildsetId) + " is not in the database";
    return false;
  }
  const auto requests = db_.requestsForBuildset(buildsetId);
  Json reqs = Json::object();
  for (const auto& r : requests) reqs[r.builder] = r.id;
  // The shape BuildsetService::create publishes.
  Event e;
  e.type = EventType::BuildsetCreated;
  e.fromOtherMaster = true;
  e.buildsetId = bs->id;
  e.scheduler = bs->scheduler;
  e.changeIds = bs->sourcestamp.changeIds;
  const auto& ss = bs->sourcestamp;
  e.data = Json{{"reason", bs->reason},         {"branch", ss.branch},   {"revision", ss.revision},
                {"repository", ss.repository}, {"project", ss.project}, {"requests", reqs},
                {"parent_build_id", bs->parentBuildId}};
  events_.publish(std::move(e));
  for (const auto& r : requests) {
    Event re;
    re.type = EventType::RequestCreated;
    re.fromOtherMaster = true;
    re.requestId = r.id;
    re.buildsetId = bs->id;
    re.builder = r.builder;
    re.data = Json{{"priority", r.priority}};
    events_.publish(std::move(re));
  }
  return true;
}

}  // namespace bb
