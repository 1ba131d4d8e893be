// The `slaves:`, `users:`, `locks:` and `change_sources:` sections.
#include "config/yaml_util.hpp"

namespace bb::cfg {

namespace {

std::string itemWhat(std::string_view section, std::size_t i) {
  return std::string(section) + " item " + std::to_string(i + 1);
}

// Reads and checks a `password:` verifier; nullopt on error.
std::optional<std::string> readVerifier(const MapReader& r) {
  auto pw = r.string("password", true);
  if (!pw) return std::nullopt;
  if (auto bad = checkScramVerifier(*pw)) {
    r.error(r.markOf("password"), *bad);
    return std::nullopt;
  }
  return pw;
}

}  // namespace

void parseSlaves(const MapReader& top, MasterParse& p) {
  forEachItem(top, "slaves", [&](const YAML::Node& item, std::size_t i) {
    MapReader r(item, itemWhat("slaves", i), p.sink, top.markOf("slaves"));
    if (!r.isMap()) return;
    r.allowKeys({"name", "password", "max_builds", "properties"});
    SlaveEntry s;
    auto name = readName(r, p, RefKind::Slave, "slave");
    auto pw = readVerifier(r);
    if (auto n = r.integer("max_builds", 1, 1000)) s.maxBuilds = static_cast<int>(*n);
    if (auto props = r.properties("properties")) s.properties = *props;
    if (!name || !pw) return;
    s.name = *name;
    s.passwordVerifier = *pw;
    p.config.slaves.push_back(std::move(s));
  });
}

void parseUsers(const MapReader& top, MasterParse& p) {
  // User names are not used in paths, so e-mail-like names are fine; they
  // are checked as names of their own kind (no RefKind: nothing refers to them).
  std::map<std::string, YAML::Mark> seen;
  forEachItem(top, "users", [&](const YAML::Node& item, std::size_t i) {
    MapReader r(item, itemWhat("users", i), p.sink, top.markOf("users"));
    if (!r.isMap()) return;
    r.allowKeys({"name", "password", "may"});
    UserEntry u;
    auto name = r.string("name", true);
    if (name) {
      if (auto bad = checkName(*name, "@+")) {
        r.error(r.markOf("name"), *bad);
        name.reset();
      } else {
        r.setWhat("user '" + *name + "'");
        auto [it, fresh] = seen.emplace(*name, r.markOf("name"));
        if (!fresh) {
          r.error(r.markOf("name"), "duplicate user name '" + *name + "' (first defined at line " +
                                        std::to_string(it->second.line + 1) +
                                        "); names must be unique");
          name.reset();
        }
      }
    }
    auto pw = readVerifier(r);
    bool mayOk = true;
    if (auto may = r.stringList("may")) {
      YAML::Node list = r.value("may");
      for (std::size_t j = 0; j < may->size(); ++j) {
        const std::string& what = (*may)[j];
        if (what != "sendchange" && what != "force" && what != "try" && what != "status" &&
            what != "stop_slave") {
          r.error(list[j].Mark(), "may: unknown permission '" + what +
                                      "'; allowed: sendchange, force, try, status, stop_slave");
          mayOk = false;
        }
      }
      u.may = *may;
    }
    if (!name || !pw || !mayOk) return;
    u.name = *name;
    u.passwordVerifier = *pw;
    p.config.users.push_back(std::move(u));
  });
}

void parseLocks(const MapReader& top, MasterParse& p) {
  forEachItem(top, "locks", [&](const YAML::Node& item, std::size_t i) {
    MapReader r(item, itemWhat("locks", i), p.sink, top.markOf("locks"));
    if (!r.isMap()) return;
    r.allowKeys({"name", "scope", "max_count", "max_count_for_slave"});
    LockEntry l;
    auto name = readName(r, p, RefKind::Lock, "lock");
    if (auto scope = r.choice("scope", {"master", "slave"})) l.scope = *scope;
    if (auto n = r.integer("max_count", 1, 1'000'000)) l.maxCount = static_cast<int>(*n);
    YAML::Node perSlave = r.value("max_count_for_slave");
    if (perSlave.IsDefined()) {
      if (l.scope != "slave") {
        r.error(r.markOf("max_count_for_slave"),
                "max_count_for_slave only applies to scope: slave locks");
      } else if (!perSlave.IsMap()) {
        r.error(r.markOf("max_count_for_slave"),
                "max_count_for_slave must be a map of slave names to counts, got " +
                    describe(perSlave));
      } else {
        MapReader counts(perSlave, r.what() + ", max_count_for_slave", p.sink);
        counts.allowKeys(counts.keys());  // reports duplicate slave names
        for (const std::string& slave : counts.keys()) {
          auto n = counts.integer(slave, 1, 1'000'000);
          if (!n) continue;
          l.maxCountForSlave[slave] = static_cast<int>(*n);
          p.refer(RefKind::Slave, slave, counts.keyMarkOf(slave), counts.what());
        }
      }
    }
    if (!name) return;
    l.name = *name;
    p.config.locks.push_back(std::move(l));
  });
}

void parseChangeSources(const MapReader& top, MasterParse& p) {
  std::vector<std::string> types;
  for (const auto& k : p.kinds.changeSources) types.push_back(k.name);
  forEachItem(top, "change_sources", [&](const YAML::Node& item, std::size_t i) {
    MapReader r(item, itemWhat("change_sources", i), p.sink, top.markOf("change_sources"));
    if (!r.isMap()) return;
    ChangeSourceEntry c;
    auto name = readName(r, p, RefKind::ChangeSource, "change source");
    auto type = r.choice("type", types, true);
    // The type's own keys and their checks. With no valid type, the keys
    // are checked as the type they fit best (fewest errors) would check
    // them, so one look at the errors fixes everything.
    bool ok = false;
    if (const ChangeSourceKind* kind = type ? p.kinds.changeSource(*type) : nullptr) {
      ok = kind->parse(r, p, c);
    } else {
      std::optional<ErrorSink> best;
      for (const auto& k : p.kinds.changeSources) {
        ErrorSink trial("");
        MasterParse tp{trial, p.config, {}, {}, {}, p.kinds, {}};
        MapReader tr(item, r.what(), trial, top.markOf("change_sources"));
        ChangeSourceEntry scratch;
        (void)k.parse(tr, tp, scratch);
        if (!best || trial.count() < best->count()) best.emplace(std::move(trial));
      }
      if (best) p.sink.addAll(*best);
    }
    if (!name || !type || !ok) return;
    c.name = *name;
    c.type = *type;
    p.config.changeSources.push_back(std::move(c));
  });
}

}  // namespace bb::cfg
