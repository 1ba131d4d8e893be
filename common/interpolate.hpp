#pragma once
// Build properties and Buildbot-style interpolation of `%(prop:NAME)s`
// placeholders in step arguments. The syntax is documented in
// docs/configuration.md ("Property interpolation").
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "common/message.hpp"  // Json

namespace bb {

// Thrown by interpolate() for bad syntax or a property that is not set.
struct InterpolationError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A set of named properties, each with a JSON value and the name of what set
// it ("Builder", "Scheduler", "Slave", "Change", "Force", ...).
class Properties {
 public:
  struct Entry {
    Json value;
    std::string source;
  };

  // Sets (or replaces) `name` with `value`, remembering who set it.
  void set(const std::string& name, Json value, const std::string& source);
  // The value of `name`, or nullptr if it is not set.
  const Json* get(const std::string& name) const;
  // The source that set `name`, or nullptr if it is not set.
  const std::string* sourceOf(const std::string& name) const;
  // True if `name` is set (even to null or "").
  bool has(const std::string& name) const;
  // Removes `name`; returns whether it was set.
  bool erase(const std::string& name);
  // `name` rendered as text: strings verbatim, null as "", anything else
  // (numbers, booleans, arrays, objects) as compact JSON. Throws
  // InterpolationError if it is not set.
  std::string asString(const std::string& name) const;
  // Copies every property of `other` into this set, replacing duplicates.
  void update(const Properties& other);
  // {name: [value, source], ...}
  Json toJson() const;
  // Inverse of toJson(). Throws std::invalid_argument on any other shape.
  static Properties fromJson(const Json& j);

  std::size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  const std::map<std::string, Entry>& entries() const { return entries_; }

 private:
  std::map<std::string, Entry> entries_;
};

// Why `name` cannot be a property name, or nullopt if it can: a name is
// what `%(prop:NAME)s` can refer to, one or more letters, digits, '_', '.'
// or '-'. The message says so ("property name 'a/b' is not allowed: ...").
std::optional<std::string> checkPropertyName(const std::string& name);

// The properties every build takes from its source stamp: branch,
// revision, repository, project and codebase. They win over a same-named
// property from anywhere else, and their source is kSourceStampSource.
bool isSourceStampProperty(const std::string& name);
inline constexpr char kSourceStampSource[] = "SourceStamp";
// What a user who tries to set source-stamp property `name` is told;
// `instead` says what to use ("--revision"), or is empty.
std::string sourceStampPropertyNote(const std::string& name, const std::string& instead);

// Renders a JSON value the way asString() does.
std::string propertyValueToString(const Json& value);

// The values of the config's secrets, by name (config/master_config.hpp).
using SecretValues = std::map<std::string, std::string>;

// Expands every `%(prop:...)s` in `text` using `props`, and `%%` to `%`:
//   %(prop:NAME)s              the value; InterpolationError if not set
//   %(prop:NAME:-DEFAULT)s     DEFAULT if not set or empty
//   %(prop:NAME:~DEFAULT)s     DEFAULT if not set or falsy (""/0/false/null/[]/{})
//   %(prop:NAME:+REPLACEMENT)s REPLACEMENT if set and non-empty, else ""
//   %(secret:NAME)s            the value of secret NAME (no operators)
// DEFAULT/REPLACEMENT may themselves contain placeholders. A `%` followed by
// anything other than `(` or `%` is kept as it is. Throws InterpolationError
// on bad syntax, a property that is not set, or a secret that is not in
// `secrets` (a null `secrets`: this text may not use secrets at all).
std::string interpolate(std::string_view text, const Properties& props,
                        const SecretValues* secrets = nullptr);

// The names of the secrets `text` refers to (%(secret:NAME)s), in order,
// duplicates kept; empty if the text is not well formed.
std::vector<std::string> secretNames(std::string_view text);

// Checks the syntax of `text` without any properties. Returns a message
// describing the first problem, or nullopt if the text is well formed.
std::optional<std::string> validateInterpolation(std::string_view text);

}  // namespace bb
