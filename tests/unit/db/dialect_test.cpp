// The engine seam: schema words expand per dialect, and the database API
// (the headers the rest of the master includes) names no engine.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "master/db/dialect.hpp"

namespace bb::db {
namespace {

TEST(Dialect, SchemaWordsExpandToTheEnginesWords) {
  const Dialect& d = sqliteDialect();
  EXPECT_STREQ(d.name, "sqlite");
  EXPECT_EQ(d.expand("CREATE TABLE t (id {{ID}}, b {{BLOB}}) {{CLUSTERED}};"),
            "CREATE TABLE t (id INTEGER PRIMARY KEY, b BLOB) WITHOUT ROWID;");
  EXPECT_EQ(d.expand("no words here"), "no words here");
  EXPECT_THROW(d.expand("id {{SERIAL}}"), std::logic_error);
  EXPECT_THROW(d.expand("id {{ID"), std::logic_error);
}

std::string readSource(const std::string& rel) {
  std::ifstream in(std::string(BB_SOURCE_DIR) + "/" + rel);
  if (!in) throw std::runtime_error("cannot read " + rel);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(Dialect, TheDatabaseApiNamesNoEngineTypeOrCall) {
  // What callers outside master/db include. Comments may say which engine
  // is the default; no type, call or header of an engine may appear.
  for (const char* header : {"master/db/database.hpp", "master/db/records.hpp",
                             "master/db/db_error.hpp", "master/db/database_file.hpp",
                             "master/db/list_query.hpp"}) {
    const std::string text = readSource(header);
    EXPECT_EQ(text.find("sqlite3"), std::string::npos) << header;
    EXPECT_EQ(text.find("SQLITE_"), std::string::npos) << header;
    EXPECT_EQ(text.find("rowid"), std::string::npos) << header;
    EXPECT_EQ(text.find("#include \"master/db/engine.hpp\""), std::string::npos) << header;
  }
}

}  // namespace
}  // namespace bb::db
