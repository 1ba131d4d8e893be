// The `schedulers:` section: common keys, plus type-specific keys kept in
// SchedulerEntry::extra for the scheduler that reads them.
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <sstream>

#include "config/yaml_util.hpp"

namespace bb::cfg {

namespace {

const std::vector<std::string> kCommonKeys = {
    "name",  "type",           "builders",       "branch",   "tree_stable_timer",
    "files", "only_important", "change_sources", "priority", "properties"};

struct TypeInfo {
  std::string_view type;
  std::vector<std::string> extraKeys;  // allowed besides kCommonKeys
};

// To give a scheduler type a new key, add it here; it then arrives in
// SchedulerEntry::extra (and unknown keys keep being reported as typos).
const std::vector<TypeInfo> kTypes = {
    {"single_branch", {}},
    {"any_branch", {"branches"}},
    {"force", {}},
    {"periodic", {"interval"}},
    {"nightly", {"cron", "only_if_changed", "timezone"}},
    {"dependent", {"upstream"}},
    {"triggerable", {}},
    {"try", {}},
};

const TypeInfo* findType(const std::string& type) {
  for (const auto& t : kTypes) {
    if (t.type == type) return &t;
  }
  return nullptr;
}

std::string typeList() {
  std::string out;
  for (const auto& t : kTypes) out += (out.empty() ? "" : ", ") + std::string(t.type);
  return out;
}

void parseFiles(const MapReader& r, MasterParse& p, FileFilter& f) {
  YAML::Node files = r.value("files");
  if (!files.IsDefined()) return;
  MapReader fr(files, r.what() + ", files", p.sink, r.markOf("files"));
  if (!fr.isMap()) return;
  fr.allowKeys({"include", "exclude"});
  if (auto inc = fr.stringList("include")) f.include = *inc;
  if (auto exc = fr.stringList("exclude")) f.exclude = *exc;
}

// An IANA time zone name this host knows: "UTC" or a file of the tz
// database (the same rule master/schedulers/cron.cpp applies at run time).
bool knownTimeZone(const std::string& tz) {
  if (tz == "UTC" || tz == "Etc/UTC") return true;
  if (tz.empty() || tz[0] == '/' || tz.find("..") != std::string::npos) return false;
  for (unsigned char c : tz)
    if (!std::isalnum(c) && c != '/' && c != '_' && c != '-' && c != '+') return false;
  const char* dir = std::getenv("TZDIR");
  const std::string path = std::string(dir && *dir ? dir : "/usr/share/zoneinfo") + "/" + tz;
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// Checks the keys that only one type uses; returns false on error.
bool checkTypeSpecific(const MapReader& r, MasterParse& p, const SchedulerEntry& s) {
  bool ok = true;
  if (s.type == "dependent") {
    auto up = r.string("upstream", true);
    if (!up) return false;
    if (*up == s.name) {
      r.error(r.markOf("upstream"), "a dependent scheduler cannot be its own upstream");
      return false;
    }
    p.refer(RefKind::Scheduler, *up, r.markOf("upstream"), r.what());
    p.upstreams[s.name] = {*up, r.markOf("upstream")};
  } else if (s.type == "periodic") {
    ok = r.integer("interval", 1, kNoMax, true).has_value();
  } else if (s.type == "nightly") {
    auto cron = r.string("cron", true);
    if (!cron) return false;
    std::istringstream in(*cron);
    int fields = 0;
    for (std::string f; in >> f;) ++fields;
    if (fields != 5) {
      r.error(r.markOf("cron"), "cron must have 5 fields (minute hour day-of-month month "
                                "day-of-week), e.g. \"0 3 * * *\"; got '" + *cron + "'");
      ok = false;
    }
    if (r.has("only_if_changed") && !r.boolean("only_if_changed")) ok = false;
    if (r.has("timezone")) {
      auto tz = r.string("timezone");
      if (!tz) {
        ok = false;
      } else if (!knownTimeZone(*tz)) {
        r.error(r.markOf("timezone"), "timezone '" + *tz + "' is not a time zone this host knows; "
                                      "use a tz database name like \"Europe/Paris\" or \"UTC\"");
        ok = false;
      }
    }
  } else if (s.type == "triggerable") {
    // It starts builds only from trigger steps, on the parent build's
    // source stamp: change keys would silently do nothing.
    for (const char* key :
         {"branch", "tree_stable_timer", "files", "only_important", "change_sources"}) {
      if (!r.has(key)) continue;
      r.error(r.keyMarkOf(key), std::string(key) +
                                    " does nothing on a triggerable scheduler (it builds only "
                                    "when a trigger step asks, on the parent's source stamp); "
                                    "remove it");
      ok = false;
    }
  } else if (s.type == "any_branch" && r.has("branches")) {
    auto branches = r.stringList("branches");
    if (!branches) {
      ok = false;
    } else if (branches->empty()) {
      r.error(r.markOf("branches"), "branches is empty; leave it out to build every branch");
      ok = false;
    } else if (std::find(branches->begin(), branches->end(), "") != branches->end()) {
      r.error(r.markOf("branches"), "branches must not contain an empty pattern");
      ok = false;
    }
  } else if (s.type == "single_branch" && !s.branch) {
    if (!r.has("branch")) r.missing("branch");
    ok = false;
  }
  return ok;
}

}  // namespace

void parseSchedulers(const MapReader& top, MasterParse& p) {
  forEachItem(top, "schedulers", [&](const YAML::Node& item, std::size_t i) {
    MapReader r(item, "schedulers item " + std::to_string(i + 1), p.sink,
                top.markOf("schedulers"));
    if (!r.isMap()) return;
    SchedulerEntry s;
    auto name = readName(r, p, RefKind::Scheduler, "scheduler");
    bool ok = name.has_value();
    if (name) s.name = *name;
    const TypeInfo* info = nullptr;
    if (auto type = r.string("type", true)) {
      info = findType(*type);
      if (!info) {
        r.error(r.markOf("type"), "type must be one of " + typeList() + "; got '" + *type + "'");
      } else {
        s.type = *type;
      }
    }
    std::vector<std::string> allowed = kCommonKeys;
    if (info) {
      allowed.insert(allowed.end(), info->extraKeys.begin(), info->extraKeys.end());
    } else {
      // Unknown type: accept every type's keys rather than pile on errors.
      for (const auto& t : kTypes) allowed.insert(allowed.end(), t.extraKeys.begin(), t.extraKeys.end());
    }
    r.allowKeys(allowed);
    if (!info) ok = false;

    if (auto builders = r.stringList("builders", true)) {
      if (builders->empty()) {
        r.error(r.markOf("builders"), "builders is empty; list the builders this scheduler starts");
        ok = false;
      }
      YAML::Node list = r.value("builders");
      for (std::size_t j = 0; j < builders->size(); ++j) {
        p.refer(RefKind::Builder, (*builders)[j], list[j].Mark(), r.what());
      }
      s.builders = *builders;
    } else {
      ok = false;
    }
    if (auto b = r.string("branch")) s.branch = *b;
    if (auto t = r.integer("tree_stable_timer", 0, 86400 * 7)) s.treeStableTimer = static_cast<int>(*t);
    parseFiles(r, p, s.files);
    if (auto b = r.boolean("only_important")) s.onlyImportant = *b;
    if (auto cs = r.stringList("change_sources")) {
      YAML::Node list = r.value("change_sources");
      for (std::size_t j = 0; j < cs->size(); ++j) {
        p.refer(RefKind::ChangeSource, (*cs)[j], list[j].Mark(), r.what());
      }
      s.changeSources = *cs;
    }
    if (auto pr = r.integer("priority", -1'000'000, 1'000'000)) s.priority = static_cast<int>(*pr);
    if (auto props = r.object("properties")) s.properties = *props;
    for (const std::string& key : r.keys()) {
      if (std::find(kCommonKeys.begin(), kCommonKeys.end(), key) == kCommonKeys.end()) {
        s.extra[key] = yamlToJson(r.value(key), p.sink);
      }
    }
    if (info && name && !checkTypeSpecific(r, p, s)) ok = false;
    if (!ok) return;
    p.config.schedulers.push_back(std::move(s));
  });
}

}  // namespace bb::cfg
