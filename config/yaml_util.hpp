#pragma once
// Helpers of the config loaders: error collection with YAML positions, a
// typed reader for one YAML map, and the pieces of the master config parser
// that live in separate files. Outside config/, only the config checks of
// registered kinds (config_kinds.hpp) use them, from the kind's own file.
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "common/message.hpp"  // Json
#include "config/config_error.hpp"
#include "config/config_kinds.hpp"
#include "config/master_config.hpp"

namespace bb::cfg {

inline constexpr std::int64_t kNoMax = std::numeric_limits<std::int64_t>::max();

// Collects every error of one file, in any order.
class ErrorSink {
 public:
  explicit ErrorSink(std::string file) : file_(std::move(file)) {}
  // Records `message` at a 0-based YAML mark (an invalid mark gives 0:0).
  void add(const YAML::Mark& mark, std::string message);
  std::size_t count() const { return errors_.size(); }
  // Records every error of `other` (its file name is replaced by this one's).
  void addAll(const ErrorSink& other);
  // The errors sorted by line and column (stable for equal positions).
  std::vector<ConfigError> sorted() const;

 private:
  std::string file_;
  std::vector<ConfigError> errors_;
};

// Reads one YAML map, reporting problems as "<what>: <problem>". Every typed
// getter returns nullopt when the key is absent or its value is wrong (the
// error is then already recorded).
class MapReader {
 public:
  // Records an error (at `node`, or at `fallback` for a null node) if `node`
  // is not a map; `what` names the map ("master", "slave 'linux-1'").
  MapReader(const YAML::Node& node, std::string what, ErrorSink& sink,
            const YAML::Mark& fallback = YAML::Mark());

  // True if the node is a map (otherwise every getter returns nullopt).
  bool isMap() const { return isMap_; }
  const std::string& what() const { return what_; }
  // Renames the map in later messages (e.g. once its name is known).
  void setWhat(std::string what) { what_ = std::move(what); }
  // Reports every key not in `allowed` (listing the allowed ones) and every
  // duplicate key.
  void allowKeys(std::initializer_list<std::string_view> allowed);
  // Same, with a vector of allowed keys.
  void allowKeys(const std::vector<std::string>& allowed);
  // True if the map has `key` (whatever its value).
  bool has(std::string_view key) const;
  // The value of `key`; an undefined node when absent.
  YAML::Node value(std::string_view key) const;
  // Where to report a problem with `key`'s value: the value, or the key when
  // the value is null, or the map itself when the key is absent.
  YAML::Mark markOf(std::string_view key) const;
  // Where `key` itself is written (the map when absent).
  YAML::Mark keyMarkOf(std::string_view key) const;
  // Where the map starts.
  YAML::Mark mark() const { return mark_; }
  // Records "<what>: <message>" at `mark`.
  void error(const YAML::Mark& mark, const std::string& message) const;
  // Records "<what>: missing required key '<key>'" at the map.
  void missing(std::string_view key) const;
  // Every key in the map, in file order (keys that are not scalars skipped).
  std::vector<std::string> keys() const;

  std::optional<std::string> string(std::string_view key, bool required = false) const;
  // An integer in [min, max]; the error states the range.
  std::optional<std::int64_t> integer(std::string_view key, std::int64_t min, std::int64_t max,
                                      bool required = false) const;
  std::optional<bool> boolean(std::string_view key) const;
  std::optional<std::vector<std::string>> stringList(std::string_view key,
                                                     bool required = false) const;
  // A map of strings to strings (e.g. env).
  std::optional<std::map<std::string, std::string>> stringMap(std::string_view key) const;
  // A map converted to a JSON object (e.g. env-like settings).
  std::optional<Json> object(std::string_view key) const;
  // A map of build properties: object() plus every name checked. A name
  // %(prop:NAME)s cannot refer to, or one the source stamp sets (branch,
  // revision, repository, project, codebase), is an error at its key;
  // nullopt if there was any.
  std::optional<Json> properties(std::string_view key) const;
  // A string that must be one of `choices`.
  std::optional<std::string> choice(std::string_view key,
                                    std::initializer_list<std::string_view> choices,
                                    bool required = false) const;
  std::optional<std::string> choice(std::string_view key, const std::vector<std::string>& choices,
                                    bool required = false) const;

 private:
  YAML::Node node_;
  std::string what_;
  ErrorSink* sink_;
  YAML::Mark mark_;
  bool isMap_ = false;
};

// Converts a YAML value to JSON: unquoted scalars become numbers, booleans
// (true/false) or null (~, null) when they look like one, anything else a
// string. Non-scalar map keys are reported to `sink`.
Json yamlToJson(const YAML::Node& node, ErrorSink& sink);

// Describes what a scalar/sequence/map node is, for "got ..." in messages.
std::string describe(const YAML::Node& node);

// Checks a name used as an identifier (slaves, builders, schedulers, locks,
// change sources): 1-100 characters from [A-Za-z0-9._-], starting with a
// letter or digit. `extra` lists further allowed characters. Returns an
// error message, or nullopt if it is fine.
std::optional<std::string> checkName(const std::string& name, std::string_view extra = {});

// Checks the shape of a SCRAM-SHA-256 verifier
// "scram-sha-256$<iter>:<b64 salt>$<b64 StoredKey>:<b64 ServerKey>".
// Returns an error message (never containing the value), or nullopt.
std::optional<std::string> checkScramVerifier(const std::string& text);

// ---- master config parser parts -------------------------------------------

enum class RefKind { Slave, Builder, Lock, ChangeSource, Scheduler, Reporter };
std::string_view toString(RefKind k);

// A use of a name that must be defined somewhere in the config.
struct PendingRef {
  RefKind kind;
  std::string name;
  YAML::Mark mark;
  std::string what;  // who refers to it, e.g. "builder 'b1'"
};

// State shared by the parsers of each section of a master config.
struct MasterParse {
  ErrorSink& sink;
  MasterConfig& config;
  std::vector<PendingRef> refs;
  std::map<RefKind, std::map<std::string, YAML::Mark>> defined;
  // dependent scheduler -> (upstream scheduler, where it is named), for
  // cycle detection.
  std::map<std::string, std::pair<std::string, YAML::Mark>> upstreams;
  // The kinds this config may use.
  const ConfigKinds& kinds;
  // name -> type of every scheduler written in the file, read before the
  // sections (so a trigger step can check the type of what it names).
  std::map<std::string, std::string> schedulerTypes;

  // Records a definition of `name`; reports a duplicate. Returns false if
  // `name` was already defined.
  bool define(RefKind kind, const std::string& name, const YAML::Mark& mark,
              const std::string& what);
  // Records a use of `name` to be checked once everything is parsed.
  void refer(RefKind kind, const std::string& name, const YAML::Mark& mark, std::string what);
};

// Reads a required, valid name from `r` and defines it; nullopt if absent,
// invalid or a duplicate (errors recorded). `extra`: see checkName().
std::optional<std::string> readName(MapReader& r, MasterParse& p, RefKind kind,
                                    std::string_view kindText, std::string_view extra = {});

// Calls fn(item, index) for each element of the list under `key` of the
// top-level map; reports a value that is not a list.
template <typename Fn>
void forEachItem(const MapReader& top, std::string_view key, Fn fn) {
  YAML::Node list = top.value(key);
  if (!list.IsDefined() || list.IsNull()) return;
  if (!list.IsSequence()) {
    top.error(top.markOf(key), std::string(key) + " must be a list, got " + describe(list));
    return;
  }
  for (std::size_t i = 0; i < list.size(); ++i) fn(list[i], i);
}

// Parses locks: [...]'s access list (builder or step level).
std::vector<LockAccess> parseLockAccesses(const MapReader& r, MasterParse& p);
// `names` joined for a message: "a, b, c", or "a, b or c" with last = " or ".
std::string joinNames(const std::vector<std::string>& names, std::string_view sep = ", ",
                      std::string_view last = ", ");
// Checks a step's workdir: relative, inside the builder directory.
std::optional<std::string> checkWorkdir(const std::string& dir);
// Checks `text` with the interpolation parser; reports bad syntax, and
// any %(secret:NAME)s (this field may not hold a secret).
void checkInterpolation(const MapReader& r, const YAML::Mark& mark, std::string_view field,
                        const std::string& text);
// The same for a field that may use secrets: every %(secret:NAME)s is
// recorded in p.config.secrets.uses, checked once the secrets are read.
void checkSecretInterpolation(const MapReader& r, MasterParse& p, const YAML::Mark& mark,
                              std::string_view field, const std::string& text);

void parseMasterSection(const MapReader& top, MasterParse& p);
void parseSlaves(const MapReader& top, MasterParse& p);
void parseUsers(const MapReader& top, MasterParse& p);
void parseLocks(const MapReader& top, MasterParse& p);
void parseChangeSources(const MapReader& top, MasterParse& p);
// `reporters:` (config/reporters_section.cpp); each type's keys by its kind.
void parseReporters(const MapReader& top, MasterParse& p);
void parseBuilders(const MapReader& top, MasterParse& p);
void parseSchedulers(const MapReader& top, MasterParse& p);
// `secrets:` and `secrets_dir:` (config/secrets_section.cpp).
void parseSecrets(const MapReader& top, MasterParse& p);
// `retention:` (config/retention_section.cpp).
void parseRetention(const MapReader& top, MasterParse& p);

}  // namespace bb::cfg
