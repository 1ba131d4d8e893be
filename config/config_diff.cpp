#include "config/config_diff.hpp"

#include <map>

#include <yaml-cpp/yaml.h>

#include "common/message.hpp"  // Json

namespace bb {

namespace {

// A YAML node as JSON, scalars as strings: equal content gives equal text
// whatever the style it was written in.
Json canonical(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map: {
      Json out = Json::object();
      for (const auto& kv : n) out[kv.first.as<std::string>()] = canonical(kv.second);
      return out;
    }
    case YAML::NodeType::Sequence: {
      Json out = Json::array();
      for (const auto& item : n) out.push_back(canonical(item));
      return out;
    }
    case YAML::NodeType::Scalar:
      return n.Scalar();
    default:
      return nullptr;
  }
}

YAML::Node load(const std::string& text) {
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception&) {
    return YAML::Node();  // a config without text (built in code) compares as empty
  }
}

// name -> canonical text of each entry of a list section.
std::map<std::string, std::string> entries(const YAML::Node& root, const char* key) {
  std::map<std::string, std::string> out;
  if (!root.IsMap() || !root[key] || !root[key].IsSequence()) return out;
  for (const auto& item : root[key]) {
    if (!item.IsMap() || !item["name"] || !item["name"].IsScalar()) continue;
    out[item["name"].Scalar()] = canonical(item).dump();
  }
  return out;
}

}  // namespace

std::vector<SectionChanges> diffConfigs(const MasterConfig& before, const MasterConfig& after) {
  const YAML::Node a = load(before.text);
  const YAML::Node b = load(after.text);
  std::vector<SectionChanges> out;
  auto section = [](const YAML::Node& root, const char* key) {
    return root.IsMap() && root[key] ? canonical(root[key]).dump() : std::string();
  };
  if (section(a, "master") != section(b, "master")) out.push_back({"master section", {}, {}, {"master"}});
  if (section(a, "retention") != section(b, "retention"))
    out.push_back({"retention section", {}, {}, {"retention"}});
  const std::pair<const char*, const char*> lists[] = {
      {"builders", "builders"},   {"schedulers", "schedulers"}, {"slaves", "slaves"},
      {"change_sources", "change sources"}, {"users", "users"}, {"locks", "locks"},
      {"reporters", "reporters"}};
  for (const auto& [key, label] : lists) {
    const auto old = entries(a, key);
    const auto now = entries(b, key);
    SectionChanges c{label, {}, {}, {}};
    for (const auto& [name, text] : now) {
      auto it = old.find(name);
      if (it == old.end())
        c.added.push_back(name);
      else if (it->second != text)
        c.changed.push_back(name);
    }
    for (const auto& [name, text] : old)
      if (!now.count(name)) c.removed.push_back(name);
    if (!c.empty()) out.push_back(std::move(c));
  }
  // Secrets by value (a file or variable may change while the config text
  // does not); only their names are reported.
  SectionChanges c{"secrets", {}, {}, {}};
  const auto& old = before.secrets.values;
  const auto& now = after.secrets.values;
  for (const auto& [name, value] : now) {
    auto it = old.find(name);
    if (it == old.end()) c.added.push_back(name);
    else if (it->second != value) c.changed.push_back(name);
  }
  for (const auto& [name, value] : old)
    if (!now.count(name)) c.removed.push_back(name);
  if (!c.empty()) out.push_back(std::move(c));
  return out;
}

std::string describeChanges(const std::vector<SectionChanges>& changes) {
  if (changes.empty()) return "nothing changed";
  auto join = [](const std::vector<std::string>& names) {
    std::string s;
    for (const auto& n : names) s += (s.empty() ? "" : " ") + n;
    return s;
  };
  std::string out;
  for (const auto& c : changes) {
    if (!out.empty()) out += "; ";
    if (c.section.ends_with(" section")) {
      out += c.section + " changed";
      continue;
    }
    std::string parts;
    auto add = [&](const char* what, const std::vector<std::string>& names) {
      if (names.empty()) return;
      parts += (parts.empty() ? "" : ", ") + std::string(what) + " " + join(names);
    };
    add("added", c.added);
    add("removed", c.removed);
    add("changed", c.changed);
    out += c.section + ": " + parts;
  }
  return out;
}

}  // namespace bb
