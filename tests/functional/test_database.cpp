#include "tests/functional/test_database.hpp"

#include <libpq-fe.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>

namespace bb::test {

namespace {

using PgConn = std::unique_ptr<PGconn, decltype(&PQfinish)>;
using PgResult = std::unique_ptr<PGresult, decltype(&PQclear)>;

PgConn connectTo(const std::string& url) {
  PgConn c(PQconnectdb(url.c_str()), &PQfinish);
  if (!c || PQstatus(c.get()) != CONNECTION_OK)
    throw std::runtime_error("cannot connect to " + url + ": " +
                             (c ? PQerrorMessage(c.get()) : "out of memory"));
  return c;
}

// The cluster's base URL, postgresql://bb@127.0.0.1:PORT.
std::string serverUrl() {
  const char* v = std::getenv("BB_TEST_DATABASE");
  const char* dir = v ? std::strchr(v, ':') : nullptr;
  if (dir == nullptr || dir[1] == '\0')
    throw std::runtime_error("BB_TEST_DATABASE must be postgresql:DIR, DIR the directory of a "
                             "cluster started by tests/pg_cluster.sh start DIR");
  ++dir;
  std::ifstream in(std::string(dir) + "/url");
  std::string url;
  if (!std::getline(in, url) || url.empty())
    throw std::runtime_error(std::string("no cluster URL in ") + dir +
                             "/url: is the cluster running (tests/pg_cluster.sh start)?");
  return url;
}

constexpr char kSqliteFunctions[] = R"sql(
CREATE FUNCTION json_extract(doc TEXT, path TEXT) RETURNS TEXT LANGUAGE SQL IMMUTABLE
  AS $$ SELECT jsonb_path_query_first(doc::jsonb, path::jsonpath) #>> '{}' $$;
CREATE FUNCTION bb_concat(acc TEXT, v TEXT, sep TEXT) RETURNS TEXT LANGUAGE SQL IMMUTABLE
  AS $$ SELECT CASE WHEN v IS NULL THEN acc WHEN acc IS NULL THEN v ELSE acc || sep || v END $$;
CREATE FUNCTION bb_concat(acc TEXT, v BIGINT) RETURNS TEXT LANGUAGE SQL IMMUTABLE
  AS $$ SELECT bb_concat(acc, v::TEXT, ',') $$;
CREATE AGGREGATE group_concat(TEXT, TEXT) (SFUNC = bb_concat, STYPE = TEXT);
CREATE AGGREGATE group_concat(BIGINT) (SFUNC = bb_concat, STYPE = TEXT);
)sql";

}  // namespace

bool postgresMode() {
  const char* v = std::getenv("BB_TEST_DATABASE");
  return v != nullptr && std::string(v).rfind("postgresql", 0) == 0;
}

std::string postgresDatabaseFor(const std::string& masterDir) {
  static std::mutex mutex;
  static std::set<std::string> made;
  std::ostringstream name;
  name << "bb_" << std::hex << std::hash<std::string>{}(masterDir);
  const std::string base = serverUrl();
  const std::string url = base + "/" + name.str();
  std::lock_guard<std::mutex> lock(mutex);
  if (made.count(name.str())) return url;
  PgConn c = connectTo(base + "/postgres");
  PgResult r(PQexec(c.get(), ("CREATE DATABASE " + name.str()).c_str()), &PQclear);
  const char* state = PQresultErrorField(r.get(), PG_DIAG_SQLSTATE);
  if (PQresultStatus(r.get()) != PGRES_COMMAND_OK && !(state && std::string(state) == "42P04"))
    throw std::runtime_error("CREATE DATABASE " + name.str() + " failed: " +
                             PQresultErrorMessage(r.get()));
  if (PQresultStatus(r.get()) == PGRES_COMMAND_OK) {
    // The SQLite functions the tests' own inspection queries use (never
    // the master's SQL, which is written once for both engines).
    PgConn d = connectTo(url);
    PgResult f(PQexec(d.get(), kSqliteFunctions), &PQclear);
    if (PQresultStatus(f.get()) != PGRES_COMMAND_OK)
      throw std::runtime_error("adding test functions to " + url + " failed: " +
                               PQresultErrorMessage(f.get()));
  }
  made.insert(name.str());
  return url;
}

std::string withDatabase(const std::string& yaml, const std::string& url) {
  const std::string entry = "database: \"" + url + "\"";
  // A config read back from the master directory and written again.
  if (yaml.find(entry) != std::string::npos) return yaml;
  static const std::regex kSqliteKey(
      R"re(database:[ \t]*("sqlite:[^"]*"|'sqlite:[^']*'|sqlite:[^,}\s]*))re");
  if (std::regex_search(yaml, kSqliteKey)) return std::regex_replace(yaml, kSqliteKey, entry);
  std::smatch m;
  static const std::regex kFlow(R"re((^|\n)master:[ \t]*\{[ \t]*)re");
  if (std::regex_search(yaml, m, kFlow)) {
    const auto at = static_cast<std::size_t>(m.position(0) + m.length(0));
    const bool empty = at < yaml.size() && yaml[at] == '}';
    return yaml.substr(0, at) + entry + (empty ? "" : ", ") + yaml.substr(at);
  }
  static const std::regex kBlock(R"re((^|\n)master:[ \t]*\n([ \t]+))re");
  if (std::regex_search(yaml, m, kBlock)) {
    const auto at = static_cast<std::size_t>(m.position(2));
    return yaml.substr(0, at) + m.str(2) + entry + "\n" + yaml.substr(at);
  }
  return yaml;  // no master section: a config test; nothing to point anywhere
}

std::vector<std::vector<std::string>> postgresRows(const std::string& url, const std::string& sql) {
  PgConn c = connectTo(url);
  PgResult r(PQexec(c.get(), sql.c_str()), &PQclear);
  const auto status = PQresultStatus(r.get());
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK)
    throw std::runtime_error("query '" + sql + "' on " + url + " failed: " +
                             PQresultErrorMessage(r.get()));
  std::vector<std::vector<std::string>> rows;
  for (int i = 0; i < PQntuples(r.get()); ++i) {
    std::vector<std::string> row;
    for (int j = 0; j < PQnfields(r.get()); ++j) {
      const char* v = PQgetvalue(r.get(), i, j);
      // A comparison is a boolean here, an integer in SQLite: as SQLite shows it.
      constexpr Oid kBool = 16;
      if (PQgetisnull(r.get(), i, j)) row.push_back("NULL");
      else if (PQftype(r.get(), j) == kBool) row.push_back(v[0] == 't' ? "1" : "0");
      else row.push_back(v);
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace bb::test
