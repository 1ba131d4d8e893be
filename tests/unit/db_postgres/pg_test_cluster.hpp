#pragma once
// The PostgreSQL cluster of a ctest run (tests/pg_cluster.sh, named by
// BB_TEST_DATABASE=postgresql:DIR) as the unit_db_postgres tests use it:
// its URL, superuser statements, and a fresh database per test.
#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>

namespace bb::db::pgtest {

// The cluster's URL without a database name.
inline std::string serverUrl() {
  const char* v = std::getenv("BB_TEST_DATABASE");
  const char* dir = v ? std::strchr(v, ':') : nullptr;
  if (dir == nullptr) throw std::runtime_error("BB_TEST_DATABASE=postgresql:DIR is not set");
  std::ifstream in(std::string(dir + 1) + "/url");
  std::string url;
  if (!std::getline(in, url)) throw std::runtime_error("no cluster URL in " + std::string(dir + 1));
  return url;
}

// Runs `sql` as the cluster's superuser on the database at `url`; throws on error.
inline void adminAt(const std::string& url, const std::string& sql) {
  PGconn* c = PQconnectdb(url.c_str());
  PGresult* r = PQexec(c, sql.c_str());
  const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
  const std::string msg = PQerrorMessage(c);
  PQclear(r);
  PQfinish(c);
  if (!ok) throw std::runtime_error(sql + ": " + msg);
}

// A new, empty database named PREFIX_PID_N; its URL.
inline std::string freshDatabase(const std::string& prefix) {
  static std::atomic<int> n{0};
  const std::string name = prefix + "_" + std::to_string(getpid()) + "_" + std::to_string(++n);
  adminAt(serverUrl() + "/postgres", "CREATE DATABASE " + name);
  return serverUrl() + "/" + name;
}

}  // namespace bb::db::pgtest
