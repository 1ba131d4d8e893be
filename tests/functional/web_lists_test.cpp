// REST collections over more rows than fit in one read: filters, order,
// paging and meta.total are right for every row, however old, because the
// database does them (master/web/rest_lists.cpp, master/db/list_db.cpp).
// The rows are written through the database layer into the running
// master's database (6002 builds in well under a second), not built.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "master/db/database.hpp"
#include "tests/functional/harness.hpp"
#include "tests/functional/http_client.hpp"

namespace bb::test {
namespace {

using Json = nlohmann::json;

constexpr int kBuilds = 6000;  // more than the 5000 rows collections once read

class WebLists : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string v = makeVerifier("pw");
    master.create();
    master.writeConfig("master: {name: lists, slave_port: " + std::to_string(master.port()) +
                       ", web_port: " + std::to_string(web) + "}\n"
                       "slaves: [{name: s1, password: \"" + v + "\"}]\n"
                       "builders:\n"
                       "  - {name: b1, slaves: [s1], steps: [{shell: {name: hello, command: [\"true\"]}}]}\n"
                       "  - {name: b2, slaves: [s1], steps: [{shell: {name: hello, command: [\"true\"]}}]}\n");
    master.start();
    ASSERT_TRUE(master.waitForLog("web: serving on")) << master.log();
    // The oldest build is b2's only one, a failure; then b1's builds, all
    // successes but the last two, which are still running.
    db::Database d(master.dbPath(), db::OpenMode::MustExist);
    const db::MasterId id = d.registerMaster("lists", 1000);
    d.transaction([&] {
      const auto old = d.addBuild(id, 0, "b2", "s1", 1000, Json::object());
      d.finishBuild(old.id, Result::Failure, "failed oldfail", 1001);
      for (int i = 0; i < kBuilds + 1; ++i) {
        const auto b = d.addBuild(id, 0, "b1", "s1", 2000 + i, Json::object());
        if (i < kBuilds - 1) d.finishBuild(b.id, Result::Success, "build successful", 2000 + i);
      }
    });
  }
  Json get(const std::string& path, int expect = 200) {
    const HttpReply r = httpGet(web, path);
    EXPECT_EQ(r.status, expect) << path << "\n" << r.body;
    try {
      return Json::parse(r.body);
    } catch (const std::exception&) {
      ADD_FAILURE() << path << ": not JSON: " << r.body;
      return Json();
    }
  }
  std::int64_t total(const std::string& path) { return get(path)["meta"]["total"].get<std::int64_t>(); }

  TempDir tmp;
  int web = freePort();
  MasterProcess master{tmp.sub("master")};
};

TEST_F(WebLists, FiltersFindOldRowsAndTotalCountsEveryMatch) {
  constexpr std::int64_t kAll = kBuilds + 2;

  // The whole collection: one page, every row counted.
  const Json page = get("/api/v2/builds?limit=3");
  EXPECT_EQ(page["meta"]["total"], kAll);
  ASSERT_EQ(page["builds"].size(), 3u);
  EXPECT_EQ(page["builds"][0]["buildid"], kAll) << "newest first";
  EXPECT_EQ(page["builds"][0]["number"], kBuilds + 1);

  // The oldest build matches filters done in SQL...
  const Json failed = get("/api/v2/builds?results=2");
  EXPECT_EQ(failed["meta"]["total"], 1);
  ASSERT_EQ(failed["builds"].size(), 1u) << failed.dump();
  EXPECT_EQ(failed["builds"][0]["buildid"], 1);
  EXPECT_EQ(failed["builds"][0]["builder"], "b2");
  EXPECT_EQ(total("/api/v2/builders/b2/builds?results=2&complete=true"), 1);
  EXPECT_EQ(total("/api/v2/builders/b1/builds"), kBuilds + 1);
  // ...and one done in memory over every row.
  const Json text = get("/api/v2/builds?state_string__contains=oldfail&field=buildid");
  EXPECT_EQ(text, (Json{{"builds", Json::array({Json{{"buildid", 1}}})}, {"meta", {{"total", 1}}}}));

  // Ranges, order and paging deep in the history.
  const Json low = get("/api/v2/builds?builder=b1&number__le=3&order=number&field=number");
  EXPECT_EQ(low["builds"], Json::parse(R"([{"number":1},{"number":2},{"number":3}])"));
  EXPECT_EQ(low["meta"]["total"], 3);
  const Json tail = get("/api/v2/builds?offset=6001&limit=5&field=buildid");
  EXPECT_EQ(tail["builds"], Json::parse(R"([{"buildid":1}])"));
  EXPECT_EQ(tail["meta"]["total"], kAll);
  EXPECT_EQ(get("/api/v2/builds?offset=9000&limit=5")["meta"]["total"], kAll);
  EXPECT_EQ(total("/api/v2/builds?buildid__gt=10&buildid__le=4010"), 4000);

  // Running builds have no results: complete=false finds them, and a null
  // differs from every value (as the in-memory filter has it).
  EXPECT_EQ(total("/api/v2/builds?complete=false"), 2);
  EXPECT_EQ(total("/api/v2/builds?results__ne=0"), 3);
  const Json lastDone = get("/api/v2/builds?order=-complete_at&limit=1");
  ASSERT_EQ(lastDone["builds"].size(), 1u);
  EXPECT_EQ(lastDone["builds"][0]["complete"], true) << "nulls sort last when descending";
  EXPECT_EQ(lastDone["builds"][0]["number"], kBuilds - 1);

  // A bad value is the sender's error, and the master stays up.
  EXPECT_NE(get("/api/v2/builds?number__gt=abc", 400)["error"].get<std::string>().find("whole number"),
            std::string::npos);
  EXPECT_EQ(total("/api/v2/builds?complete=true"), kBuilds);
}

}  // namespace
}  // namespace bb::test
