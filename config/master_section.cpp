// The `master:` section: identity, ports, database and connection timing.
#include <optional>
#include <string>

#include "config/yaml_util.hpp"

namespace bb::cfg {

namespace {

// What is wrong with a `database:` value, or nullopt. A password in a
// postgresql:// URL is refused (config files are shared and logged) and
// never repeated in the message.
std::optional<std::string> checkDatabaseUrl(const std::string& db) {
  static constexpr std::string_view kSqlite = "sqlite:";
  static constexpr std::string_view kPostgres[] = {"postgresql://", "postgres://"};
  for (std::string_view scheme : kPostgres) {
    if (db.rfind(scheme, 0) != 0) continue;
    const std::string rest = db.substr(scheme.size());
    const std::string authority = rest.substr(0, rest.find_first_of("/?"));
    const auto at = authority.rfind('@');
    const bool passwordInUser = at != std::string::npos && authority.substr(0, at).find(':') != std::string::npos;
    const auto query = rest.find('?');
    const bool passwordInQuery = query != std::string::npos &&
                                 ("&" + rest.substr(query + 1)).find("&password=") != std::string::npos;
    if (passwordInUser || passwordInQuery)
      return std::string("database URL must not contain a password (config files are copied and "
                         "shown); give it to libpq instead: a ~/.pgpass file of the user the "
                         "master runs as, the PGPASSFILE environment variable naming such a file, "
                         "or PGPASSWORD (see docs/configuration.md)");
    if (rest.empty() || rest.find('/') == std::string::npos || rest.back() == '/')
      return "database must name the database: postgresql://USER@HOST:PORT/DBNAME, got '" + db + "'";
    return std::nullopt;
  }
  if (db.rfind(kSqlite, 0) != 0 || db.size() == kSqlite.size())
    return "database must be 'sqlite:<path>' (e.g. sqlite:state.sqlite) or "
           "'postgresql://USER@HOST:PORT/DBNAME', got '" + db + "'";
  return std::nullopt;
}

}  // namespace

void parseMasterSection(const MapReader& top, MasterParse& p) {
  if (!top.has("master")) return;  // every key has a default
  MapReader r(top.value("master"), "master", p.sink, top.markOf("master"));
  if (!r.isMap()) return;
  r.allowKeys({"name", "url", "host", "slave_port", "web_port", "web_host",
               "web_read_login", "web_max_body", "web_max_connections", "database", "database_password_file", "max_frame",
               "heartbeat_interval", "heartbeat_timeout", "ping_timeout", "max_retries", "dead_after",
               "artifacts_max_build_size", "log_max_mb", "log_keep", "tls", "tls_cert", "tls_key"});
  MasterSection& m = p.config.master;

  if (auto name = r.string("name")) {
    if (auto bad = checkName(*name)) {
      r.error(r.markOf("name"), *bad);
    } else {
      m.name = *name;
    }
  }
  if (auto url = r.string("url")) {
    if (url->rfind("http://", 0) != 0 && url->rfind("https://", 0) != 0) {
      r.error(r.markOf("url"), "url must start with http:// or https://, got '" + *url + "'");
    } else {
      // Links are made by appending paths, so the base always ends in '/'.
      if (url->back() != '/') url->push_back('/');
      m.url = *url;
    }
  }
  if (auto host = r.string("host")) {
    if (host->empty()) {
      r.error(r.markOf("host"), "host must be an address to bind to, e.g. 127.0.0.1 or 0.0.0.0");
    } else {
      m.host = *host;
    }
  }
  if (auto port = r.integer("slave_port", 1, 65535)) m.slavePort = static_cast<std::uint16_t>(*port);
  if (auto port = r.integer("web_port", 0, 65535)) m.webPort = static_cast<std::uint16_t>(*port);
  if (m.webPort != 0 && m.webPort == m.slavePort) {
    r.error(r.has("web_port") ? r.markOf("web_port") : r.markOf("slave_port"),
            "web_port and slave_port are both " + std::to_string(m.webPort) +
                "; give them different ports (or web_port: 0 for no web server)");
  }
  if (auto host = r.string("web_host")) {
    if (host->empty()) r.error(r.markOf("web_host"), "web_host must be an address to bind to, e.g. 127.0.0.1");
    else m.webHost = *host;
  }
  if (auto on = r.boolean("web_read_login")) m.webReadLogin = *on;
  if (auto n = r.integer("web_max_body", 1024, 1 << 30)) m.webMaxBody = static_cast<std::size_t>(*n);
  if (auto n = r.integer("web_max_connections", 1, 1000000)) m.webMaxConnections = static_cast<std::size_t>(*n);
  if (auto db = r.string("database")) {
    if (auto bad = checkDatabaseUrl(*db)) r.error(r.markOf("database"), *bad);
    else m.database = *db;
  }
  if (auto file = r.string("database_password_file")) {
    if (file->empty())
      r.error(r.markOf("database_password_file"),
              "database_password_file is empty; give the file that holds the database password");
    else if (m.database.rfind("postgres", 0) != 0)
      r.error(r.markOf("database_password_file"),
              "database_password_file is only for a postgresql:// database (SQLite has no password)");
    else
      m.databasePasswordFile = *file;
  }
  if (auto mf = r.integer("max_frame", 1024, 1 << 30)) m.maxFrame = static_cast<std::uint32_t>(*mf);
  if (auto s = r.integer("heartbeat_interval", 1, 3600)) m.heartbeatInterval = std::chrono::seconds(*s);
  if (auto s = r.integer("heartbeat_timeout", 1, 86400)) m.heartbeatTimeout = std::chrono::seconds(*s);
  if (auto s = r.integer("ping_timeout", 1, 3600)) m.pingTimeout = std::chrono::seconds(*s);
  if (auto s = r.integer("dead_after", 3, 86400)) m.deadAfter = std::chrono::seconds(*s);
  if (auto n = r.integer("max_retries", 0, 1000)) m.maxRetries = static_cast<int>(*n);
  if (auto n = r.integer("artifacts_max_build_size", 0, kNoMax)) m.artifactsMaxBuildSize = *n;
  if (auto on = r.boolean("tls")) m.tls = *on;
  for (auto [key, field] : {std::pair{"tls_cert", &m.tlsCert}, std::pair{"tls_key", &m.tlsKey}}) {
    if (auto file = r.string(key)) {
      if (file->empty())
        r.error(r.markOf(key), std::string(key) + " is empty; give a PEM file (default " + *field + ")");
      else
        *field = *file;
    }
  }
  if (!m.tls && (r.has("tls_cert") || r.has("tls_key")))
    r.error(r.markOf(r.has("tls_cert") ? "tls_cert" : "tls_key"),
            "tls_cert/tls_key are given but tls is false; remove them or turn TLS on");
  if (auto mb = r.integer("log_max_mb", 0, 100000)) m.log.maxMegabytes = static_cast<int>(*mb);
  if (auto k = r.integer("log_keep", 0, 1000)) m.log.keep = static_cast<int>(*k);
  if (m.heartbeatTimeout <= m.heartbeatInterval) {
    r.error(r.has("heartbeat_timeout") ? r.markOf("heartbeat_timeout")
                                       : r.markOf("heartbeat_interval"),
            "heartbeat_timeout (" + std::to_string(m.heartbeatTimeout.count()) +
                ") must be greater than heartbeat_interval (" +
                std::to_string(m.heartbeatInterval.count()) +
                "), or every quiet peer would be declared dead");
  }
}

}  // namespace bb::cfg
