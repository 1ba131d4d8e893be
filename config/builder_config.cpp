// The `builders:` section and the steps inside each builder.
#include <set>

#include "config/step_url.hpp"
#include "config/yaml_util.hpp"

namespace bb::cfg {

namespace {

// "{a: {...}}, {b: {...}} or {c: {...}}": the step shapes, for messages.
std::string stepShapes(const ConfigKinds& kinds) {
  std::vector<std::string> shapes;
  for (const auto& k : kinds.steps) shapes.push_back("{" + k.name + ": {...}}");
  return joinNames(shapes, ", ", " or ");
}

// `urls: {NAME: TEMPLATE}`: the links a step shows, rendered with the
// build's properties when it starts. False if there was a problem.
bool readStepUrls(const MapReader& r, StepConfig& s) {
  const YAML::Node node = r.value("urls");
  if (!node.IsDefined() || node.IsNull()) return true;
  if (!node.IsMap()) {
    r.error(r.markOf("urls"), "urls must be a map of link name to URL, e.g. {report: "
                              "\"https://ci.example.org/r/%(prop:got_revision)s\"}, got " + describe(node));
    return false;
  }
  if (node.size() > kMaxStepUrls) {
    r.error(r.markOf("urls"), "urls has " + std::to_string(node.size()) + " links; a step has at most " +
                                  std::to_string(kMaxStepUrls));
    return false;
  }
  bool ok = true;
  std::set<std::string> seen;
  for (auto it = node.begin(); it != node.end(); ++it) {
    const YAML::Node k = it->first, v = it->second;
    if (!k.IsScalar() || !v.IsScalar()) {
      r.error(k.Mark(), "urls: each entry is NAME: \"URL\" (text), got " + describe(v));
      ok = false;
      continue;
    }
    const std::string& name = k.Scalar();
    const std::string& url = v.Scalar();
    if (auto bad = checkStepUrlName(name)) {
      r.error(k.Mark(), "urls: " + *bad);
      ok = false;
    } else if (!seen.insert(name).second) {
      r.error(k.Mark(), "urls: the link name '" + name + "' is given twice");
      ok = false;
    } else if (auto badUrl = checkStepUrl(url)) {
      r.error(v.Mark(), "urls " + name + ": " + *badUrl);
      ok = false;
    } else {
      checkInterpolation(r, v.Mark(), "urls " + name, url);
      s.urls.emplace_back(name, url);
    }
  }
  return ok;
}

// Parses one `{TYPE: {...}}` item: the name here, the rest by the step
// type's kind; nullopt on error.
std::optional<StepConfig> parseStep(const YAML::Node& item, std::size_t i, const MapReader& builder,
                                    MasterParse& p, std::set<std::string>& names) {
  const std::string where = builder.what() + ", step " + std::to_string(i + 1);
  if (!item.IsMap() || item.size() != 1 || !item.begin()->first.IsScalar()) {
    p.sink.add(item.IsNull() ? builder.markOf("steps") : item.Mark(),
               where + " must be a one-key map: " + stepShapes(p.kinds) + ", got " + describe(item));
    return std::nullopt;
  }
  const std::string type = item.begin()->first.Scalar();
  const StepKind* kind = p.kinds.step(type);
  if (!kind) {
    std::vector<std::string> allowed;
    for (const auto& k : p.kinds.steps) allowed.push_back(k.name);
    p.sink.add(item.begin()->first.Mark(),
               where + ": unknown step type '" + type + "'; allowed: " + joinNames(allowed));
    return std::nullopt;
  }
  MapReader r(item.begin()->second, where + " (" + type + ")", p.sink, item.begin()->first.Mark());
  if (!r.isMap()) return std::nullopt;
  StepConfig s;
  s.type = type;
  bool explicitName = r.has("name");
  bool ok = true;
  if (auto name = r.string("name")) {
    if (auto bad = checkName(*name, " ")) {
      r.error(r.markOf("name"), "step " + *bad);
      ok = false;
    } else {
      s.name = *name;
      r.setWhat(builder.what() + ", step '" + s.name + "'");
    }
  } else if (explicitName) {
    ok = false;
  }
  ok = readStepUrls(r, s) && ok;
  ok = kind->parse(r, p, s) && ok;
  if (!ok || !s.options) return std::nullopt;
  if (!explicitName) {
    // Unnamed steps are named after their type, numbered from the second on
    // ("TYPE", "TYPE_2", ...), so step names stay unique in a build.
    s.name = type;
    for (int n = 2; names.count(s.name) != 0; ++n) s.name = type + "_" + std::to_string(n);
  } else if (names.count(s.name) != 0) {
    r.error(r.markOf("name"), "duplicate step name '" + s.name +
                                  "' in this builder; give each step a distinct name");
    return std::nullopt;
  }
  names.insert(s.name);
  return s;
}

}  // namespace

void parseBuilders(const MapReader& top, MasterParse& p) {
  forEachItem(top, "builders", [&](const YAML::Node& item, std::size_t i) {
    MapReader r(item, "builders item " + std::to_string(i + 1), p.sink, top.markOf("builders"));
    if (!r.isMap()) return;
    r.allowKeys({"name", "slaves", "properties", "locks", "collapse_requests", "steps"});
    BuilderEntry b;
    auto name = readName(r, p, RefKind::Builder, "builder");
    bool ok = name.has_value();
    if (auto slaves = r.stringList("slaves", true)) {
      if (slaves->empty()) {
        r.error(r.markOf("slaves"), "slaves is empty; list at least one slave that can run this builder");
        ok = false;
      }
      YAML::Node list = r.value("slaves");
      for (std::size_t j = 0; j < slaves->size(); ++j) {
        p.refer(RefKind::Slave, (*slaves)[j], list[j].Mark(), r.what());
      }
      b.slaves = *slaves;
    } else {
      ok = false;
    }
    if (auto props = r.properties("properties")) b.properties = *props;
    b.locks = parseLockAccesses(r, p);
    if (auto c = r.boolean("collapse_requests")) b.collapseRequests = *c;
    YAML::Node steps = r.value("steps");
    if (!steps.IsDefined()) {
      r.missing("steps");
      ok = false;
    } else if (!steps.IsSequence() || steps.size() == 0) {
      r.error(r.markOf("steps"), "steps must be a non-empty list of " + stepShapes(p.kinds) + ", got " +
                                     (steps.IsSequence() ? std::string("an empty list") : describe(steps)));
      ok = false;
    } else {
      std::set<std::string> names;
      for (std::size_t j = 0; j < steps.size(); ++j) {
        if (auto s = parseStep(steps[j], j, r, p, names)) {
          b.steps.push_back(std::move(*s));
        } else {
          ok = false;
        }
      }
    }
    if (!ok) return;
    b.name = *name;
    p.config.builders.push_back(std::move(b));
  });
}

}  // namespace bb::cfg
