// The `schedulers:` section: common keys, plus type-specific keys kept in
// SchedulerEntry::extra for the scheduler that reads them.

#include <algorithm>
#include <optional>
#include <utility>

#include "common/cron.hpp"
#include "config/yaml_util.hpp"

namespace bb::cfg {

namespace {

const std::vector<std::string> kCommonKeys = {
    "name",  "type",           "builders",       "branch",   "tree_stable_timer",
    "files", "only_important", "change_sources", "priority", "properties"};

// Change filter keys besides `branch` (which is common: periodic and
// nightly build it). Not in kCommonKeys, so they are also kept in `extra`.
const std::vector<std::string> kFilterKeys = {"branch_pattern", "repository", "project",
                                              "category"};

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

// One glob pattern or a list of them, none empty; nullopt (error recorded)
// otherwise or when absent.
std::optional<std::vector<std::string>> patternList(const MapReader& r, const std::string& key) {
  const YAML::Node v = r.value(key);
  if (!v.IsDefined()) return std::nullopt;
  if (v.IsNull()) {
    r.error(r.markOf(key), key + " has no value; give a pattern or a list of patterns");
    return std::nullopt;
  }
  if (v.IsScalar()) {
    if (v.Scalar().empty()) {
      r.error(r.markOf(key), key + " must not be an empty pattern; leave it out to accept all");
      return std::nullopt;
    }
    return std::vector<std::string>{v.Scalar()};
  }
  auto list = r.stringList(key);
  if (!list) return std::nullopt;
  if (list->empty()) {
    r.error(r.markOf(key), key + " is empty; leave it out to accept all");
    return std::nullopt;
  }
  for (std::size_t i = 0; i < list->size(); ++i) {
    if ((*list)[i].empty()) {
      r.error(v[i].Mark(), key + " item " + std::to_string(i + 1) + " is an empty pattern");
      return std::nullopt;
    }
  }
  return list;
}

// Whether a scheduler of this entry's type listens to changes, so that a
// change filter means something.
bool listensToChanges(const SchedulerEntry& s) {
  if (s.type == "single_branch" || s.type == "any_branch") return true;
  if (s.type != "nightly") return false;
  const auto it = s.extra.find("only_if_changed");
  return it != s.extra.end() && it->is_boolean() && it->get<bool>();
}

// Fills s.changeFilter from branch, branch_pattern (any_branch: or
// branches), repository, project and category; returns false on error.
bool parseChangeFilter(const MapReader& r, SchedulerEntry& s) {
  bool ok = true;
  const bool listens = listensToChanges(s);
  for (const std::string& key : kFilterKeys) {
    if (!r.has(key) || listens) continue;
    r.error(r.keyMarkOf(key),
            key + " is a change filter, and " +
                (s.type == "nightly"
                     ? std::string("a nightly scheduler looks at changes only with only_if_changed: true")
                     : "a " + s.type + " scheduler does not look at changes") +
                "; remove it");
    ok = false;
  }
  if (!listens) return ok;
  ChangeFilter& f = s.changeFilter;
  f.branch = s.branch;
  if (r.has("branch") && r.has("branch_pattern")) {
    r.error(r.keyMarkOf("branch_pattern"),
            "give either branch (one exact name) or branch_pattern (glob patterns), not both");
    ok = false;
  }
  if (s.type == "any_branch" && r.has("branches") && (r.has("branch") || r.has("branch_pattern"))) {
    r.error(r.keyMarkOf("branches"), "branches and " +
                                         std::string(r.has("branch") ? "branch" : "branch_pattern") +
                                         " both limit the branches; keep one (branch_pattern is "
                                         "the same as branches)");
    ok = false;
  }
  const std::pair<const char*, std::vector<std::string>*> lists[] = {
      {"branch_pattern", &f.branchPatterns},
      {"repository", &f.repositories},
      {"project", &f.projects},
      {"category", &f.categories}};
  for (const auto& [key, out] : lists) {
    if (!r.has(key)) continue;
    if (auto v = patternList(r, key)) *out = std::move(*v);
    else ok = false;
  }
  if (s.type == "any_branch" && f.branchPatterns.empty()) {
    // Checked (non-empty, no empty pattern) by checkTypeSpecific.
    if (auto it = s.extra.find("branches"); it != s.extra.end() && it->is_array())
      for (const auto& b : *it)
        if (b.is_string()) f.branchPatterns.push_back(b.get<std::string>());
  }
  return ok;
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
    // The scheduler's own parser, so checkconfig reports every cron and
    // time zone mistake the master would, with line:column.
    try {
      (void)CronSchedule::parse(*cron);
    } catch (const CronError& e) {
      r.error(r.markOf("cron"), e.what());
      ok = false;
    }
    if (r.has("only_if_changed") && !r.boolean("only_if_changed")) ok = false;
    if (r.has("timezone")) {
      auto tz = r.string("timezone");
      if (!tz) {
        ok = false;
      } else {
        try {
          checkTimeZone(*tz);
        } catch (const CronError& e) {
          r.error(r.markOf("timezone"), e.what());
          ok = false;
        }
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
  } else if (s.type == "single_branch" && !s.branch && !r.has("branch_pattern")) {
    if (!r.has("branch"))
      r.error(r.mark(), "missing required key 'branch' (or branch_pattern, for several branches)");
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
    // Filter keys are allowed everywhere so that a type which does not look
    // at changes gets a clear error from parseChangeFilter, not "unknown key".
    allowed.insert(allowed.end(), kFilterKeys.begin(), kFilterKeys.end());
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
    if (auto props = r.properties("properties")) s.properties = *props;
    for (const std::string& key : r.keys()) {
      if (std::find(kCommonKeys.begin(), kCommonKeys.end(), key) == kCommonKeys.end()) {
        s.extra[key] = yamlToJson(r.value(key), p.sink);
      }
    }
    if (info && name && !checkTypeSpecific(r, p, s)) ok = false;
    if (info && !parseChangeFilter(r, s)) ok = false;
    if (!ok) return;
    p.config.schedulers.push_back(std::move(s));
  });
}

}  // namespace bb::cfg
