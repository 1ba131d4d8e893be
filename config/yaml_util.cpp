#include "config/yaml_util.hpp"

#include <algorithm>
#include <charconv>
#include <cstdlib>

#include "common/interpolate.hpp"

namespace bb::cfg {

void ErrorSink::add(const YAML::Mark& mark, std::string message) {
  ConfigError e;
  e.file = file_;
  // yaml-cpp marks are 0-based; -1 means "no position".
  e.line = mark.line >= 0 ? mark.line + 1 : 0;
  e.column = (mark.line >= 0 && mark.column >= 0) ? mark.column + 1 : 0;
  e.message = std::move(message);
  errors_.push_back(std::move(e));
}

void ErrorSink::addAll(const ErrorSink& other) {
  for (ConfigError e : other.errors_) {
    e.file = file_;
    errors_.push_back(std::move(e));
  }
}

std::vector<ConfigError> ErrorSink::sorted() const {
  std::vector<ConfigError> out = errors_;
  std::stable_sort(out.begin(), out.end(), [](const ConfigError& a, const ConfigError& b) {
    return a.line != b.line ? a.line < b.line : a.column < b.column;
  });
  return out;
}

std::string describe(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return "nothing";
  if (node.IsSequence()) return "a list";
  if (node.IsMap()) return "a map";
  std::string s = node.Scalar();
  if (s.size() > 40) s = s.substr(0, 37) + "...";
  return "'" + s + "'";
}

namespace {

std::string joinKeys(const std::vector<std::string>& keys) {
  std::string out;
  for (const auto& k : keys) {
    if (!out.empty()) out += ", ";
    out += k;
  }
  return out;
}

std::string rangeText(std::int64_t min, std::int64_t max) {
  if (max == kNoMax) {
    if (min == 0) return "a non-negative integer";
    if (min == 1) return "a positive integer";
    return "an integer >= " + std::to_string(min);
  }
  return "an integer between " + std::to_string(min) + " and " + std::to_string(max);
}

std::optional<std::int64_t> parseInt(const std::string& s) {
  std::int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

}  // namespace

MapReader::MapReader(const YAML::Node& node, std::string what, ErrorSink& sink,
                     const YAML::Mark& fallback)
    : node_(node), what_(std::move(what)), sink_(&sink), mark_(fallback) {
  if (node.IsDefined() && !node.IsNull()) mark_ = node.Mark();
  isMap_ = node.IsMap();
  if (!isMap_) error(mark_, "must be a map of keys to values, got " + describe(node));
}

void MapReader::error(const YAML::Mark& mark, const std::string& message) const {
  sink_->add(mark, what_ + ": " + message);
}

void MapReader::missing(std::string_view key) const {
  error(mark_, "missing required key '" + std::string(key) + "'");
}

void MapReader::allowKeys(std::initializer_list<std::string_view> allowed) {
  std::vector<std::string> v;
  for (auto k : allowed) v.emplace_back(k);
  allowKeys(v);
}

void MapReader::allowKeys(const std::vector<std::string>& allowed) {
  if (!isMap_) return;
  std::map<std::string, YAML::Mark> seen;
  for (auto it = node_.begin(); it != node_.end(); ++it) {
    // A copy: `it->` returns a temporary proxy, so a reference would dangle.
    const YAML::Node k = it->first;
    if (!k.IsScalar()) {
      error(k.Mark(), "keys must be plain names, got " + describe(k));
      continue;
    }
    const std::string& key = k.Scalar();
    auto [prev, fresh] = seen.emplace(key, k.Mark());
    if (!fresh) {
      error(k.Mark(), "duplicate key '" + key + "' (first given at line " +
                          std::to_string(prev->second.line + 1) + "); remove one of them");
      continue;
    }
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      error(k.Mark(), "unknown key '" + key + "'; allowed keys: " + joinKeys(allowed));
    }
  }
}

bool MapReader::has(std::string_view key) const { return value(key).IsDefined(); }

YAML::Node MapReader::value(std::string_view key) const {
  // Iterating (rather than operator[]) never inserts into the node and
  // returns the first of duplicate keys, which allowKeys() reports.
  if (isMap_) {
    for (auto it = node_.begin(); it != node_.end(); ++it) {
      if (it->first.IsScalar() && it->first.Scalar() == key) return it->second;
    }
  }
  return YAML::Node(YAML::NodeType::Undefined);
}

YAML::Mark MapReader::markOf(std::string_view key) const {
  if (isMap_) {
    for (auto it = node_.begin(); it != node_.end(); ++it) {
      if (it->first.IsScalar() && it->first.Scalar() == key) {
        // A null value's mark points past the key (often the next line).
        return it->second.IsNull() ? it->first.Mark() : it->second.Mark();
      }
    }
  }
  return mark_;
}

YAML::Mark MapReader::keyMarkOf(std::string_view key) const {
  if (isMap_) {
    for (auto it = node_.begin(); it != node_.end(); ++it) {
      if (it->first.IsScalar() && it->first.Scalar() == key) return it->first.Mark();
    }
  }
  return mark_;
}

std::vector<std::string> MapReader::keys() const {
  std::vector<std::string> out;
  if (!isMap_) return out;
  for (auto it = node_.begin(); it != node_.end(); ++it) {
    if (it->first.IsScalar()) out.push_back(it->first.Scalar());
  }
  return out;
}

std::optional<std::string> MapReader::string(std::string_view key, bool required) const {
  YAML::Node v = value(key);
  if (!v.IsDefined()) {
    if (required && isMap_) missing(key);
    return std::nullopt;
  }
  if (v.IsNull()) {
    error(markOf(key), std::string(key) + (required ? " is empty; give a value"
                                                     : " is empty; give a value or remove the key"));
    return std::nullopt;
  }
  if (!v.IsScalar()) {
    error(markOf(key), std::string(key) + " must be a string, got " + describe(v));
    return std::nullopt;
  }
  return v.Scalar();
}

std::optional<std::int64_t> MapReader::integer(std::string_view key, std::int64_t min,
                                               std::int64_t max, bool required) const {
  YAML::Node v = value(key);
  if (!v.IsDefined()) {
    if (required && isMap_) missing(key);
    return std::nullopt;
  }
  std::optional<std::int64_t> n;
  if (v.IsScalar()) n = parseInt(v.Scalar());
  if (!n || *n < min || *n > max) {
    error(markOf(key),
          std::string(key) + " must be " + rangeText(min, max) + ", got " + describe(v));
    return std::nullopt;
  }
  return n;
}

std::optional<bool> MapReader::boolean(std::string_view key) const {
  YAML::Node v = value(key);
  if (!v.IsDefined()) return std::nullopt;
  bool b = false;
  if (!v.IsScalar() || !YAML::convert<bool>::decode(v, b)) {
    error(markOf(key), std::string(key) + " must be true or false, got " + describe(v));
    return std::nullopt;
  }
  return b;
}

std::optional<std::vector<std::string>> MapReader::stringList(std::string_view key,
                                                              bool required) const {
  YAML::Node v = value(key);
  if (!v.IsDefined()) {
    if (required && isMap_) missing(key);
    return std::nullopt;
  }
  if (!v.IsSequence()) {
    error(markOf(key), std::string(key) + " must be a list of strings, got " + describe(v) +
                           " (write [a, b] or one '- item' per line)");
    return std::nullopt;
  }
  std::vector<std::string> out;
  bool ok = true;
  for (std::size_t i = 0; i < v.size(); ++i) {
    YAML::Node item = v[i];
    if (!item.IsScalar()) {
      error(item.IsNull() ? markOf(key) : item.Mark(),
            std::string(key) + " item " + std::to_string(i + 1) + " must be a string, got " +
                describe(item));
      ok = false;
      continue;
    }
    out.push_back(item.Scalar());
  }
  if (!ok) return std::nullopt;
  return out;
}

std::optional<std::map<std::string, std::string>> MapReader::stringMap(
    std::string_view key) const {
  YAML::Node v = value(key);
  if (!v.IsDefined()) return std::nullopt;
  if (!v.IsMap()) {
    error(markOf(key), std::string(key) + " must be a map of names to strings, got " +
                           describe(v));
    return std::nullopt;
  }
  std::map<std::string, std::string> out;
  bool ok = true;
  for (auto it = v.begin(); it != v.end(); ++it) {
    if (!it->first.IsScalar() || !it->second.IsScalar()) {
      error(it->first.Mark(), std::string(key) + ": every entry must be NAME: string, got " +
                                  describe(it->first) + ": " + describe(it->second));
      ok = false;
      continue;
    }
    if (!out.emplace(it->first.Scalar(), it->second.Scalar()).second) {
      error(it->first.Mark(), std::string(key) + ": duplicate key '" + it->first.Scalar() + "'");
      ok = false;
    }
  }
  if (!ok) return std::nullopt;
  return out;
}

std::optional<Json> MapReader::object(std::string_view key) const {
  YAML::Node v = value(key);
  if (!v.IsDefined()) return std::nullopt;
  if (!v.IsMap()) {
    error(markOf(key), std::string(key) + " must be a map of names to values, got " +
                           describe(v));
    return std::nullopt;
  }
  return yamlToJson(v, *sink_);
}

std::optional<Json> MapReader::properties(std::string_view key) const {
  auto obj = object(key);
  if (!obj) return std::nullopt;
  bool ok = true;
  YAML::Node node = value(key);
  for (auto it = node.begin(); it != node.end(); ++it) {
    if (!it->first.IsScalar()) continue;  // object() reported it
    const std::string name = it->first.Scalar();
    if (auto bad = checkPropertyName(name)) {
      error(it->first.Mark(), std::string(key) + ": " + *bad);
      ok = false;
    } else if (isSourceStampProperty(name)) {
      error(it->first.Mark(), std::string(key) + ": property '" + name +
                                  "' cannot be set: a build's " + name +
                                  " comes from its source stamp (branch, revision, repository, "
                                  "project and codebase do)");
      ok = false;
    }
  }
  return ok ? obj : std::nullopt;
}

std::optional<std::string> MapReader::choice(std::string_view key,
                                             std::initializer_list<std::string_view> choices,
                                             bool required) const {
  std::optional<std::string> s = string(key, required);
  if (!s) return std::nullopt;
  for (auto c : choices) {
    if (*s == c) return s;
  }
  std::vector<std::string> names(choices.begin(), choices.end());
  error(markOf(key), std::string(key) + " must be one of " + joinKeys(names) + "; got '" + *s + "'");
  return std::nullopt;
}

std::optional<std::string> MapReader::choice(std::string_view key,
                                             const std::vector<std::string>& choices,
                                             bool required) const {
  std::optional<std::string> s = string(key, required);
  if (!s) return std::nullopt;
  for (const auto& c : choices) {
    if (*s == c) return s;
  }
  error(markOf(key), std::string(key) + " must be one of " + joinKeys(choices) + "; got '" + *s + "'");
  return std::nullopt;
}

namespace {

bool looksLikeFloat(const std::string& s) {
  bool digit = false;
  for (char c : s) {
    if (c >= '0' && c <= '9') {
      digit = true;
    } else if (c != '.' && c != 'e' && c != 'E' && c != '+' && c != '-') {
      return false;
    }
  }
  return digit;
}

// YAML aliases can make a node contain itself (`&x {a: *x}`), so the
// conversion stops at a fixed depth instead of recursing forever.
constexpr int kMaxJsonDepth = 64;

Json toJson(const YAML::Node& node, ErrorSink& sink, int depth) {
  if (!node.IsDefined() || node.IsNull()) return nullptr;
  if ((node.IsSequence() || node.IsMap()) && depth >= kMaxJsonDepth) {
    sink.add(node.Mark(), "value is nested more than " + std::to_string(kMaxJsonDepth) +
                              " levels deep (a YAML alias that contains itself?)");
    return nullptr;
  }
  if (node.IsSequence()) {
    Json arr = Json::array();
    for (std::size_t i = 0; i < node.size(); ++i) arr.push_back(toJson(node[i], sink, depth + 1));
    return arr;
  }
  if (node.IsMap()) {
    Json obj = Json::object();
    for (auto it = node.begin(); it != node.end(); ++it) {
      if (!it->first.IsScalar()) {
        sink.add(it->first.Mark(), "map keys must be plain names, got " + describe(it->first));
        continue;
      }
      obj[it->first.Scalar()] = toJson(it->second, sink, depth + 1);
    }
    return obj;
  }
  const std::string& s = node.Scalar();
  if (node.Tag() == "!") return s;  // quoted: always a string
  if (s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  if (auto i = parseInt(s)) return *i;
  if (looksLikeFloat(s)) {
    char* end = nullptr;
    double d = std::strtod(s.c_str(), &end);
    if (end == s.c_str() + s.size()) return d;
  }
  return s;
}

}  // namespace

Json yamlToJson(const YAML::Node& node, ErrorSink& sink) { return toJson(node, sink, 0); }

}  // namespace bb::cfg
