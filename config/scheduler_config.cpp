// The `schedulers:` section: the common keys and the change filter here;
// each type's own keys (kept in SchedulerEntry::extra for the scheduler
// that reads them) are checked by its SchedulerKind, in its own file.

#include <algorithm>
#include <optional>
#include <utility>

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

std::string typeList(const ConfigKinds& kinds) {
  std::vector<std::string> names;
  for (const auto& k : kinds.schedulers) names.push_back(k.name);
  return joinNames(names);
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

// Whether a scheduler of this entry's kind listens to changes, so that a
// change filter means something.
bool listensToChanges(const SchedulerKind& kind, const SchedulerEntry& s) {
  return kind.listensToChanges && kind.listensToChanges(s);
}

// Fills s.changeFilter from branch, branch_pattern, repository, project
// and category; returns false on error.
bool parseChangeFilter(const MapReader& r, const SchedulerKind& kind, SchedulerEntry& s) {
  bool ok = true;
  const bool listens = listensToChanges(kind, s);
  for (const std::string& key : kFilterKeys) {
    if (!r.has(key) || listens) continue;
    r.error(r.keyMarkOf(key),
            key + " is a change filter, and " +
                (!kind.listensWhen.empty()
                     ? "a " + s.type + " scheduler looks at changes only " + kind.listensWhen
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
    const SchedulerKind* info = nullptr;
    if (auto type = r.string("type", true)) {
      info = p.kinds.scheduler(*type);
      if (!info) {
        r.error(r.markOf("type"), "type must be one of " + typeList(p.kinds) + "; got '" + *type + "'");
      } else {
        s.type = *type;
      }
    }
    std::vector<std::string> allowed = kCommonKeys;
    if (info) {
      allowed.insert(allowed.end(), info->keys.begin(), info->keys.end());
    } else {
      // Unknown type: accept every type's keys rather than pile on errors.
      for (const auto& t : p.kinds.schedulers) allowed.insert(allowed.end(), t.keys.begin(), t.keys.end());
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
    // The change filter first: a type's check may add its own spelling of
    // branch patterns to it.
    if (info && !parseChangeFilter(r, *info, s)) ok = false;
    if (info && name && info->check && !info->check(r, p, s)) ok = false;
    if (!ok) return;
    p.config.schedulers.push_back(std::move(s));
  });
}

}  // namespace bb::cfg
