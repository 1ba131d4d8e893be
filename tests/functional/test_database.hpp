#pragma once
// Which database engine the functional tests give their masters. By
// default each master has its SQLite file (sqlite:state.sqlite). With
// BB_TEST_DATABASE=postgresql:DIR (DIR: the cluster tests/pg_cluster.sh
// started; its base URL is in DIR/url), every master
// the harness creates gets its own PostgreSQL database on that cluster:
// its config's `database:` is rewritten to it, and sqlite(dbPath(), SQL)
// queries it instead of the file. tests/CMakeLists.txt runs the whole
// functional suite both ways.
#include <string>
#include <vector>

namespace bb::test {

// True when BB_TEST_DATABASE=postgresql:DIR.
bool postgresMode();

// postgresql://bb@127.0.0.1:PORT/bb_HASH: the database of the master in
// `masterDir` (one per directory, so a master restarted on the same
// directory finds its history), created on first use. Throws when the
// cluster is not running.
std::string postgresDatabaseFor(const std::string& masterDir);

// `yaml` with its master's database set to `url`: a `database: sqlite:...`
// value is replaced; without one, the key is added to the `master:`
// section (flow or block style).
std::string withDatabase(const std::string& yaml, const std::string& url);

// Rows of `sql` on the PostgreSQL database `url`, every value as text,
// NULL as "NULL", a boolean as "1"/"0" (as SQLite shows a comparison).
// Throws with the server's message on any error.
std::vector<std::vector<std::string>> postgresRows(const std::string& url, const std::string& sql);

}  // namespace bb::test
