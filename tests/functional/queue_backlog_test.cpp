// A long backlog: the distributor reads the pending queue a page at a time
// (master/process/distributor.cpp) and goes on to the next page while a
// slave is still free, so a request far behind requests it cannot place
// now starts at once, and the backlog is built in queue order. The
// requests are written through the database layer into the running
// master's database before any slave connects (as after a restart with
// a queue), not sent one by one.
#include <gtest/gtest.h>

#include "master/db/database.hpp"
#include "tests/functional/harness.hpp"

namespace bb::test {
namespace {

constexpr int kQueued = 150;  // more than two of the distributor's pages

TEST(QueueBacklog, ARequestBehindSeveralPagesOfOthersStartsWhileItsSlaveIsFree) {
  TempDir tmp;
  const std::string v = makeVerifier("pw");
  MasterProcess master(tmp.sub("master"));
  master.create();
  master.writeConfig("master: {name: backlog, slave_port: " + std::to_string(master.port()) + "}\n"
                     "slaves:\n  - {name: s1, password: " + q(v) + ", max_builds: 1}\n"
                     "  - {name: s2, password: " + q(v) + ", max_builds: 1}\n"
                     "builders:\n"
                     "  - {name: busy, slaves: [s1], steps: [{shell: {name: work, command: [\"true\"]}}]}\n"
                     "  - {name: other, slaves: [s2], steps: [{shell: {name: work, command: [\"true\"]}}]}\n");
  master.start();

  std::vector<std::int64_t> busyRequests;
  std::int64_t otherRequest = 0;
  {
    db::Database d(master.dbPath(), db::OpenMode::MustExist);
    d.transaction([&] {
      for (int i = 0; i <= kQueued; ++i) {
        db::BuildsetRecord bs;
        bs.reason = "queued " + std::to_string(i);
        bs.scheduler = "backlog";
        bs.sourcestamp.repository = "repo";
        bs.sourcestamp.branch = "main";
        bs.submittedAt = 1000 + i;
        const bool last = i == kQueued;
        const auto ids = d.addBuildset(bs, {last ? "other" : "busy"}, 0).second;
        if (last)
          otherRequest = ids.at("other");
        else
          busyRequests.push_back(ids.at("busy"));
      }
    });
  }

  // Only s2 connects: the first pages hold nothing it can build.
  SlaveProcess s2(tmp.sub("s2"), master.port(), "s2", "pw");
  s2.create();
  s2.start();
  ASSERT_TRUE(waitFor([&] {
    return sqlite(master.dbPath(), "SELECT count(*) FROM builds WHERE finished=1")[0][0] == "1";
  }, 60s)) << master.log();
  auto built = sqlite(master.dbPath(), "SELECT request_id, builder FROM builds");
  ASSERT_EQ(built.size(), 1u);
  EXPECT_EQ(built[0], (std::vector<std::string>{std::to_string(otherRequest), "other"}));

  // s1 then builds the whole backlog, oldest request first.
  SlaveProcess s1(tmp.sub("s1"), master.port(), "s1", "pw");
  s1.create();
  s1.start();
  ASSERT_TRUE(waitFor([&] {
    return sqlite(master.dbPath(), "SELECT count(*) FROM builds WHERE finished=1")[0][0] ==
           std::to_string(kQueued + 1);
  }, 120s)) << master.log();
  auto order = sqlite(master.dbPath(), "SELECT request_id FROM builds WHERE builder='busy' ORDER BY id");
  ASSERT_EQ(order.size(), busyRequests.size());
  for (std::size_t i = 0; i < order.size(); ++i)
    ASSERT_EQ(order[i][0], std::to_string(busyRequests[i])) << "build " << i + 1 << " of busy";
  EXPECT_TRUE(sqlite(master.dbPath(), "SELECT id FROM buildrequests WHERE complete=0").empty());
}

}  // namespace
}  // namespace bb::test
