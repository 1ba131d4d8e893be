#include "master/events/event_filter.hpp"

#include <algorithm>
#include <stdexcept>

namespace bb {

bool EventFilter::matches(const Event& e) {
  if (!mayMatch(e.type, e.fromOtherMaster)) return false;
  if (builder && e.builder != *builder) return false;
  if (slave && e.slave != *slave) return false;
  if (scheduler && e.scheduler != *scheduler) return false;
  if (buildId && e.buildId != *buildId) return false;
  if (buildsetId && e.buildsetId != *buildsetId) return false;
  if (changeId) {
    if (e.type == EventType::ChangeAdded) return e.changeId == *changeId;
    if (e.type == EventType::BuildsetCreated &&
        std::find(e.changeIds.begin(), e.changeIds.end(), *changeId) != e.changeIds.end())
      changeBuildsets_.insert(e.buildsetId);
    return e.buildsetId != 0 && changeBuildsets_.count(e.buildsetId) > 0;
  }
  return true;
}

bool EventFilter::mayMatch(EventType t, bool fromOtherMaster) const {
  if (fromOtherMaster && !otherMasters) return false;
  if (!types.empty() && !types.count(t)) return false;
  return topics.empty() || topics.count(std::string(topicOf(t))) > 0;
}

namespace {

std::optional<std::string> optText(const Json& p, const char* key) {
  auto it = p.find(key);
  if (it == p.end() || it->is_null()) return std::nullopt;
  if (!it->is_string() || it->get<std::string>().empty())
    throw std::invalid_argument(std::string(key) + " must be a non-empty string");
  return it->get<std::string>();
}

std::optional<std::int64_t> optId(const Json& p, const char* key) {
  auto it = p.find(key);
  if (it == p.end() || it->is_null()) return std::nullopt;
  if (!it->is_number_integer() || it->get<std::int64_t>() < 1)
    throw std::invalid_argument(std::string(key) + " must be a positive integer");
  return it->get<std::int64_t>();
}

}  // namespace

EventFilter EventFilter::fromJson(const Json& p) {
  EventFilter f;
  if (auto it = p.find("topics"); it != p.end() && !it->is_null()) {
    if (!it->is_array()) throw std::invalid_argument("topics must be a list of topic names");
    const auto& known = allTopics();
    for (const auto& t : *it) {
      if (!t.is_string() || std::find(known.begin(), known.end(), t.get<std::string>()) == known.end()) {
        std::string list;
        for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
        throw std::invalid_argument("unknown topic " + t.dump() + "; topics are " + list);
      }
      f.topics.insert(t.get<std::string>());
    }
  }
  f.builder = optText(p, "builder");
  f.slave = optText(p, "slave");
  f.scheduler = optText(p, "scheduler");
  f.buildsetId = optId(p, "buildset_id");
  f.buildId = optId(p, "build_id");
  f.changeId = optId(p, "change_id");
  f.otherMasters = true;
  if (auto it = p.find("local_only"); it != p.end() && !it->is_null()) {
    if (!it->is_boolean()) throw std::invalid_argument("local_only must be true or false");
    f.otherMasters = !it->get<bool>();
  }
  return f;
}

std::string EventFilter::describe() const {
  std::string out;
  auto add = [&](const std::string& s) { out += (out.empty() ? "" : ", ") + s; };
  if (builder) add("builder " + *builder);
  if (slave) add("slave " + *slave);
  if (scheduler) add("scheduler " + *scheduler);
  if (buildsetId) add("buildset " + std::to_string(*buildsetId));
  if (buildId) add("build " + std::to_string(*buildId));
  if (changeId) add("change " + std::to_string(*changeId));
  if (!topics.empty()) {
    std::string t;
    for (const auto& s : topics) t += (t.empty() ? "" : " ") + s;
    add("topics " + t);
  }
  for (auto type : types) add(std::string(toString(type)));
  if (out.empty()) out = "everything";
  return otherMasters ? out : out + " (this master's only)";
}

}  // namespace bb
