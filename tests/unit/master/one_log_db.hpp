#pragma once
// An in-memory database holding one build with one step and its `stdio`
// log, for tests of what is stored into a log.
#include <cstdint>
#include <string>
#include <string_view>

#include "master/db/database.hpp"

namespace bb::test {

struct OneLogDb {
  OneLogDb() {
    db.upgrade();
    db::BuildsetRecord bs;
    const auto rid = db.addBuildset(bs, {"b"}, 0).second.at("b");
    const auto build = db.addBuild(db.registerMaster("m", 1), rid, "b", "s", 1, Json::object());
    logId = db.addLog(db.addStep(build.id, 1, "shell", 1), "stdio");
  }
  // Every byte stored in the log so far, all streams in order.
  std::string stored() {
    std::string out;
    db.readLog(logId, [&](int, std::string_view d) {
      out.append(d);
      return true;
    });
    return out;
  }
  db::Database db{":memory:"};
  std::int64_t logId = 0;
};

}  // namespace bb::test
