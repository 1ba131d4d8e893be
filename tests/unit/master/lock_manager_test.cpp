// LockManager rules: exclusive/counting, limits, slave scope, all-or-nothing,
// FIFO fairness, the build-lock + step-lock pattern, cancel, reconfig and the
// status-page views. Time comes from a ManualClock: no test sleeps.
#include <gtest/gtest.h>

#include <random>

#include "common/event_loop.hpp"
#include "master/locks/lock_manager.hpp"

namespace bb {
namespace {

using namespace std::chrono_literals;

LockEntry lockDef(const std::string& name, int maxCount = 1, const std::string& scope = "master",
                  std::map<std::string, int> perSlave = {}) {
  LockEntry e;
  e.name = name;
  e.scope = scope;
  e.maxCount = maxCount;
  e.maxCountForSlave = std::move(perSlave);
  return e;
}

LockAccess excl(const std::string& lock) { return {lock, "exclusive"}; }
LockAccess counting(const std::string& lock) { return {lock, "counting"}; }

class LockManagerTest : public ::testing::Test {
 protected:
  LockManagerTest() : locks(clock) {}

  // Acquires and records grants (immediate or later) in `granted`.
  RequestId take(const std::vector<LockAccess>& wanted, const std::string& owner,
                 const std::string& slave = "") {
    auto result = locks.acquire(wanted, slave, owner, [this, owner] { grantedLater.push_back(owner); });
    if (result.granted) grantedNow.push_back(owner);
    return result.id;
  }

  std::vector<std::string> holderOwners(const std::string& lock, const std::string& slave = "") {
    std::vector<std::string> out;
    for (const Holding& h : locks.holders(lock, slave)) out.push_back(h.owner);
    return out;
  }

  ManualClock clock;
  LockManager locks;
  std::vector<std::string> grantedNow;
  std::vector<std::string> grantedLater;
};

TEST_F(LockManagerTest, ExclusiveHasOneHolderAndCountingWaitsForIt) {
  locks.configure({lockDef("db", 3)});
  RequestId a = take({excl("db")}, "build a #1");
  RequestId b = take({excl("db")}, "build b #1");
  RequestId c = take({counting("db")}, "build c #1");
  EXPECT_TRUE(locks.isGranted(a));
  EXPECT_TRUE(locks.isWaiting(b));
  EXPECT_TRUE(locks.isWaiting(c));
  EXPECT_EQ(holderOwners("db"), std::vector<std::string>{"build a #1"});

  EXPECT_TRUE(locks.release(a));
  EXPECT_EQ(grantedLater, std::vector<std::string>{"build b #1"});
  EXPECT_TRUE(locks.isWaiting(c));
  EXPECT_TRUE(locks.release(b));
  EXPECT_EQ(grantedLater, (std::vector<std::string>{"build b #1", "build c #1"}));
  EXPECT_FALSE(locks.release(b));  // already released
}

TEST_F(LockManagerTest, CountingAdmitsMaxCountHoldersThenWaits) {
  locks.configure({lockDef("cpu", 2)});
  take({counting("cpu")}, "b1");
  take({counting("cpu")}, "b2");
  RequestId third = take({counting("cpu")}, "b3");
  EXPECT_EQ(grantedNow, (std::vector<std::string>{"b1", "b2"}));
  EXPECT_TRUE(locks.isWaiting(third));
  ASSERT_EQ(locks.instances().size(), 1u);
  EXPECT_EQ(locks.instances()[0].maxCount, 2);
  EXPECT_EQ(locks.instances()[0].holders.size(), 2u);
}

// Many acquirers, exclusive and counting mixed, released in a scrambled
// order: the number of holders never exceeds the limit and every request is
// served in the end.
TEST_F(LockManagerTest, LimitHoldsUnderManyAcquirers) {
  constexpr int kLimit = 3;
  locks.configure({lockDef("cpu", kLimit)});
  int countingHolders = 0;
  int exclusiveHolders = 0;
  int served = 0;
  int maxSeen = 0;
  std::vector<RequestId> held;
  auto check = [&] {
    ASSERT_LE(countingHolders, kLimit);
    ASSERT_LE(exclusiveHolders, 1);
    if (exclusiveHolders == 1) {
      ASSERT_EQ(countingHolders, 0);
    }
    maxSeen = std::max(maxSeen, countingHolders);
  };
  std::mt19937 rng(42);
  std::map<RequestId, bool> isExclusive;
  for (int i = 0; i < 200; ++i) {
    bool exclusive = i % 7 == 3;
    auto onGrant = [&, exclusive] {
      (exclusive ? exclusiveHolders : countingHolders) += 1;
      ++served;
      check();
    };
    // The id is not known inside the callback until acquire returns, so
    // grants are matched to ids through isGranted() below.
    auto r = locks.acquire({exclusive ? excl("cpu") : counting("cpu")}, "", "build " + std::to_string(i),
                           onGrant);
    isExclusive[r.id] = exclusive;
    if (r.granted) onGrant();
    // Release a random holder now and then.
    if (rng() % 2 == 0) {
      std::vector<RequestId> granted;
      for (const auto& [id, ex] : isExclusive) {
        if (locks.isGranted(id)) granted.push_back(id);
      }
      if (!granted.empty()) {
        RequestId victim = granted[rng() % granted.size()];
        (isExclusive[victim] ? exclusiveHolders : countingHolders) -= 1;
        isExclusive.erase(victim);
        locks.release(victim);
      }
    }
  }
  // Drain: release holders until nobody waits.
  while (!isExclusive.empty()) {
    bool any = false;
    for (auto it = isExclusive.begin(); it != isExclusive.end(); ++it) {
      if (!locks.isGranted(it->first)) continue;
      RequestId victim = it->first;
      (it->second ? exclusiveHolders : countingHolders) -= 1;
      isExclusive.erase(it);
      locks.release(victim);
      any = true;
      break;
    }
    ASSERT_TRUE(any) << "requests wait but nothing is held";
  }
  EXPECT_EQ(served, 200);
  EXPECT_EQ(maxSeen, kLimit);  // the limit was reached, so it was tested
  EXPECT_TRUE(locks.waiting().empty());
  EXPECT_TRUE(locks.instances().empty());
}

TEST_F(LockManagerTest, SlaveScopeIsPerSlaveWithPerSlaveLimits) {
  locks.configure({lockDef("cpu", 1, "slave", {{"big", 2}})});
  take({counting("cpu")}, "b1", "linux-1");
  take({counting("cpu")}, "b2", "linux-2");
  RequestId w = take({counting("cpu")}, "b3", "linux-1");
  take({counting("cpu")}, "b4", "big");
  take({counting("cpu")}, "b5", "big");
  RequestId w2 = take({counting("cpu")}, "b6", "big");
  EXPECT_EQ(grantedNow, (std::vector<std::string>{"b1", "b2", "b4", "b5"}));
  EXPECT_TRUE(locks.isWaiting(w));
  EXPECT_TRUE(locks.isWaiting(w2));
  EXPECT_EQ(holderOwners("cpu", "big"), (std::vector<std::string>{"b4", "b5"}));
  EXPECT_EQ(locks.waitingFor(w), "waiting for lock 'cpu' on slave 'linux-1' (counting), held by b1");
  EXPECT_THROW(locks.acquire({counting("cpu")}, "", "b7", [] {}), LockError);
}

TEST_F(LockManagerTest, AllOrNothingWaitsWithoutHoldingAnything) {
  locks.configure({lockDef("A"), lockDef("B")});
  RequestId x = take({excl("B")}, "build x #1");
  RequestId r = take({excl("A"), excl("B")}, "build r #1");
  EXPECT_TRUE(locks.isWaiting(r));
  EXPECT_TRUE(locks.holders("A").empty()) << "a waiting request must not hold A";
  EXPECT_EQ(locks.waitingFor(r), "waiting for lock 'B' (exclusive), held by build x #1");
  // The holder of B may still take A: r holds nothing, and waits for x.
  RequestId xa = take({excl("A")}, "build x #1");
  EXPECT_TRUE(locks.isGranted(xa));
  locks.release(xa);
  EXPECT_TRUE(locks.isWaiting(r));
  locks.release(x);
  EXPECT_TRUE(locks.isGranted(r));
  EXPECT_EQ(holderOwners("A"), std::vector<std::string>{"build r #1"});
  EXPECT_EQ(holderOwners("B"), std::vector<std::string>{"build r #1"});
}

TEST_F(LockManagerTest, WaitingExclusiveIsNotStarvedByCountingStream) {
  locks.configure({lockDef("cpu", 5)});
  RequestId first = take({counting("cpu")}, "c0");
  RequestId e = take({excl("cpu")}, "exclusive");
  std::vector<RequestId> stream;
  for (int i = 1; i <= 10; ++i) {
    EXPECT_FALSE(locks.canAcquireNow({counting("cpu")}, ""));
    stream.push_back(take({counting("cpu")}, "c" + std::to_string(i)));
    EXPECT_TRUE(locks.isWaiting(stream.back())) << "counting request " << i << " jumped the queue";
  }
  EXPECT_EQ(locks.waitingFor(stream[0]), "waiting for lock 'cpu' (counting), queued behind exclusive");
  locks.release(first);
  EXPECT_EQ(grantedLater, std::vector<std::string>{"exclusive"});
  locks.release(e);
  // Five slots, in arrival order.
  EXPECT_EQ(grantedLater, (std::vector<std::string>{"exclusive", "c1", "c2", "c3", "c4", "c5"}));
  EXPECT_TRUE(locks.isWaiting(stream[5]));
}

TEST_F(LockManagerTest, RequestsThatConflictWithNoWaiterGoAhead) {
  locks.configure({lockDef("A"), lockDef("B"), lockDef("cpu", 3)});
  take({excl("A")}, "holder");
  RequestId w = take({excl("A"), counting("cpu")}, "waiter");
  EXPECT_TRUE(locks.isWaiting(w));
  EXPECT_TRUE(locks.canAcquireNow({excl("B")}, ""));
  EXPECT_TRUE(locks.isGranted(take({excl("B")}, "other")));
  // cpu has 3 slots, the waiter keeps one: two more may go ahead, not three.
  EXPECT_TRUE(locks.isGranted(take({counting("cpu")}, "c1")));
  EXPECT_TRUE(locks.isGranted(take({counting("cpu")}, "c2")));
  RequestId c3 = take({counting("cpu")}, "c3");
  EXPECT_TRUE(locks.isWaiting(c3));
  EXPECT_EQ(locks.waitingFor(c3), "waiting for lock 'cpu' (counting), queued behind waiter");
}

// Build b1 holds build lock A and its step wants B. Build b2 wants A and B
// as build locks, and b3 wants B. With hold-and-wait, b2 would hold B while
// waiting for A, and b1 (holding A) would wait for B forever. Here b2 holds
// nothing, and b1's step does not queue behind b2 or behind b3 (queued
// behind b2), because both wait, directly or not, for b1.
TEST_F(LockManagerTest, BuildLockThenStepLockPatternCompletes) {
  locks.configure({lockDef("A"), lockDef("B")});
  RequestId b1Build = take({excl("A")}, "build b1 #1");
  RequestId b2Build = take({excl("A"), excl("B")}, "build b2 #1");
  RequestId b3Build = take({excl("B")}, "build b3 #1");
  EXPECT_TRUE(locks.isWaiting(b2Build));
  EXPECT_TRUE(locks.isWaiting(b3Build)) << "b3 must queue behind b2 for B";
  EXPECT_TRUE(locks.canAcquireNow({excl("B")}, "", "build b1 #1"));
  EXPECT_FALSE(locks.canAcquireNow({excl("B")}, ""));
  RequestId b1Step = take({excl("B")}, "build b1 #1");
  ASSERT_TRUE(locks.isGranted(b1Step)) << locks.waitingFor(b1Step);
  locks.release(b1Step);
  EXPECT_TRUE(grantedLater.empty()) << "B must stay promised to b2, not b3";
  locks.release(b1Build);
  EXPECT_EQ(grantedLater, std::vector<std::string>{"build b2 #1"});
  locks.release(b2Build);
  EXPECT_EQ(grantedLater, (std::vector<std::string>{"build b2 #1", "build b3 #1"}));
  locks.release(b3Build);
  EXPECT_TRUE(locks.instances().empty());
}

// X's step queues behind W (W waits for Y, unrelated to X). Then Y's step
// waits for a lock X holds: now W waits, through Y, for X, so X's step must
// pass W at once, during Y's acquire; otherwise X, Y and W wait for each
// other forever.
TEST_F(LockManagerTest, AcquireThatClosesAQueueCycleGrantsTheWaiterItUnblocks) {
  locks.configure({lockDef("A"), lockDef("B"), lockDef("C")});
  RequestId xBuild = take({excl("B")}, "X");
  RequestId yBuild = take({excl("A")}, "Y");
  RequestId w = take({excl("A"), excl("C")}, "W");
  RequestId xStep = take({excl("C")}, "X");
  ASSERT_TRUE(locks.isWaiting(xStep));
  EXPECT_EQ(locks.waitingFor(xStep), "waiting for lock 'C' (exclusive), queued behind W");
  RequestId yStep = take({excl("B")}, "Y");
  EXPECT_TRUE(locks.isWaiting(yStep));
  EXPECT_EQ(grantedLater, std::vector<std::string>{"X"});
  EXPECT_TRUE(locks.isGranted(xStep));
  locks.release(xStep);
  locks.release(xBuild);
  EXPECT_EQ(grantedLater, (std::vector<std::string>{"X", "Y"}));
  locks.release(yStep);
  locks.release(yBuild);
  EXPECT_EQ(grantedLater, (std::vector<std::string>{"X", "Y", "W"}));
  EXPECT_TRUE(locks.isGranted(w));
}

// Random builds over five locks: build locks, then one step lock per step,
// each step lock ordered after the build's build locks (or one of its build
// locks again, in the same or a weaker mode). Lock ordering rules out any
// deadlock written into the config, so every build must finish: a stall
// would be a deadlock made by the manager's queue.
TEST_F(LockManagerTest, RandomBuildsWithStepLocksAllFinish) {
  for (unsigned seed = 1; seed <= 40; ++seed) {
    LockManager mgr(clock);
    mgr.configure({lockDef("L0", 2), lockDef("L1"), lockDef("L2", 2), lockDef("L3"),
                   lockDef("L4", 2)});
    std::mt19937 rng(seed);
    enum class Phase { NotStarted, Waiting, Running, Done };
    struct Sim {
      std::string owner;
      std::vector<LockAccess> buildLocks;
      std::vector<std::vector<LockAccess>> stepLocks;
      Phase phase = Phase::NotStarted;
      std::size_t step = 0;
      bool inStep = false;  // holds the current step's locks
      RequestId buildReq = 0;
      RequestId stepReq = 0;
    };
    auto mode = [&] { return rng() % 2 ? std::string("exclusive") : std::string("counting"); };
    std::vector<Sim> builds(12);
    for (std::size_t i = 0; i < builds.size(); ++i) {
      Sim& b = builds[i];
      b.owner = "build " + std::to_string(i);
      int top = -1;
      for (int l = 0; l < 4; ++l) {
        if (rng() % 3 == 0) {
          b.buildLocks.push_back({"L" + std::to_string(l), mode()});
          top = l;
        }
      }
      for (int s = 0; s < 3; ++s) {
        std::vector<LockAccess> step;
        if (top < 4 && rng() % 4 != 0) {
          int l = top + 1 + static_cast<int>(rng() % static_cast<unsigned>(4 - top));
          step.push_back({"L" + std::to_string(l), mode()});
        } else if (!b.buildLocks.empty()) {
          LockAccess again = b.buildLocks[rng() % b.buildLocks.size()];
          if (rng() % 2) again.access = "counting";  // same or weaker, never an upgrade
          step.push_back(again);
        }
        b.stepLocks.push_back(step);
      }
    }
    auto runnable = [&](const Sim& b) { return b.phase == Phase::NotStarted || b.phase == Phase::Running; };
    for (;;) {
      std::vector<std::size_t> ready;
      bool allDone = true;
      for (std::size_t i = 0; i < builds.size(); ++i) {
        if (builds[i].phase != Phase::Done) allDone = false;
        if (runnable(builds[i])) ready.push_back(i);
      }
      if (allDone) break;
      if (ready.empty()) {
        std::string why;
        for (const auto& w : mgr.waiting()) why += "\n  " + w.owner + ": " + mgr.waitingFor(w.id);
        FAIL() << "seed " << seed << ": builds stalled:" << why;
      }
      Sim& b = builds[ready[rng() % ready.size()]];
      if (b.phase == Phase::NotStarted) {
        b.phase = Phase::Waiting;
        auto r = mgr.acquire(b.buildLocks, "", b.owner, [&b] { b.phase = Phase::Running; });
        b.buildReq = r.id;
        if (r.granted) b.phase = Phase::Running;
      } else if (b.inStep) {
        ASSERT_TRUE(mgr.release(b.stepReq));
        b.inStep = false;
        if (++b.step == b.stepLocks.size()) {
          ASSERT_TRUE(mgr.release(b.buildReq));
          b.phase = Phase::Done;
        }
      } else {
        b.phase = Phase::Waiting;
        auto r = mgr.acquire(b.stepLocks[b.step], "", b.owner, [&b] { b.phase = Phase::Running; });
        b.stepReq = r.id;
        b.inStep = true;
        if (r.granted) b.phase = Phase::Running;
      }
    }
    EXPECT_TRUE(mgr.instances().empty()) << "seed " << seed;
  }
}

TEST_F(LockManagerTest, OwnerNeverWaitsForALockItHolds) {
  locks.configure({lockDef("db"), lockDef("cpu", 2)});
  RequestId build = take({excl("db"), counting("cpu")}, "build b1 #1");
  take({counting("cpu")}, "build b2 #1");
  RequestId step = take({excl("db"), counting("cpu")}, "build b1 #1");
  EXPECT_TRUE(locks.isGranted(step)) << locks.waitingFor(step);
  locks.release(build);
  EXPECT_EQ(holderOwners("db"), std::vector<std::string>{"build b1 #1"});
  locks.release(step);
  EXPECT_TRUE(locks.holders("db").empty());
}

TEST_F(LockManagerTest, CancelReleasesNothingAndLetsLaterWaitersProceed) {
  locks.configure({lockDef("A"), lockDef("B")});
  RequestId x = take({excl("A")}, "x");
  RequestId w1 = take({excl("A"), excl("B")}, "w1");
  RequestId w2 = take({excl("B")}, "w2");
  EXPECT_TRUE(locks.isWaiting(w2));
  EXPECT_TRUE(locks.cancel(w1));
  EXPECT_EQ(grantedLater, std::vector<std::string>{"w2"});
  EXPECT_EQ(holderOwners("A"), std::vector<std::string>{"x"});
  EXPECT_EQ(holderOwners("B"), std::vector<std::string>{"w2"});
  EXPECT_FALSE(locks.cancel(w2)) << "cancel must not release a granted request";
  EXPECT_FALSE(locks.cancel(w1));
  locks.release(x);
  EXPECT_EQ(grantedLater, std::vector<std::string>{"w2"}) << "the cancelled callback ran";
  EXPECT_FALSE(locks.isGranted(w1));
}

TEST_F(LockManagerTest, ReleaseOfAWaitingRequestCancelsIt) {
  locks.configure({lockDef("A")});
  take({excl("A")}, "x");
  RequestId w = take({excl("A")}, "w");
  EXPECT_TRUE(locks.release(w));
  EXPECT_FALSE(locks.isWaiting(w));
  EXPECT_TRUE(locks.waiting().empty());
}

TEST_F(LockManagerTest, RaisingMaxCountWakesWaitersDuringConfigure) {
  locks.configure({lockDef("cpu", 1)});
  take({counting("cpu")}, "b1");
  take({counting("cpu")}, "b2");
  take({counting("cpu")}, "b3");
  RequestId b4 = take({counting("cpu")}, "b4");
  locks.configure({lockDef("cpu", 3)});
  EXPECT_EQ(grantedLater, (std::vector<std::string>{"b2", "b3"}));
  EXPECT_TRUE(locks.isWaiting(b4));
  // Lowering it keeps the holders; newcomers wait.
  locks.configure({lockDef("cpu", 1)});
  EXPECT_EQ(locks.holders("cpu").size(), 3u);
  EXPECT_FALSE(locks.canAcquireNow({counting("cpu")}, ""));
}

TEST_F(LockManagerTest, RemovedLockStaysWithItsHoldersUntilReleased) {
  locks.configure({lockDef("A"), lockDef("B")});
  RequestId h = take({excl("A")}, "h");
  RequestId w = take({excl("A")}, "w");
  locks.configure({lockDef("B")});
  EXPECT_EQ(holderOwners("A"), std::vector<std::string>{"h"});
  ASSERT_EQ(locks.instances().size(), 1u);
  EXPECT_TRUE(locks.instances()[0].retired);
  EXPECT_THROW(take({excl("A")}, "new"), LockError);
  locks.release(h);
  EXPECT_EQ(grantedLater, std::vector<std::string>{"w"}) << "an accepted waiter is still served";
  locks.release(w);
  EXPECT_TRUE(locks.instances().empty());
  EXPECT_THROW(locks.canAcquireNow({excl("A")}, ""), LockError);
  locks.configure({lockDef("A"), lockDef("B")});
  EXPECT_TRUE(locks.canAcquireNow({excl("A")}, ""));
}

TEST_F(LockManagerTest, BadRequestsAndConfigsFailClearly) {
  locks.configure({lockDef("db")});
  try {
    locks.acquire({excl("nope")}, "", "b1", [] {});
    FAIL() << "no error for an unknown lock";
  } catch (const LockError& e) {
    EXPECT_EQ(std::string(e.what()),
              "unknown lock 'nope': it is not defined in the config's locks section");
  }
  EXPECT_THROW(locks.acquire({{"db", "shared"}}, "", "b1", [] {}), LockError);
  EXPECT_THROW(locks.acquire({excl("db")}, "", "", [] {}), LockError);
  EXPECT_THROW(locks.configure({lockDef("x"), lockDef("x")}), LockError);
  EXPECT_THROW(locks.configure({lockDef("x", 0)}), LockError);
  EXPECT_THROW(locks.configure({lockDef("x", 1, "galaxy")}), LockError);
  EXPECT_THROW(locks.configure({lockDef("x", 1, "master", {{"s", 2}})}), LockError);
  // A failed configure changed nothing: db is still there, x is not.
  EXPECT_TRUE(locks.canAcquireNow({excl("db")}, ""));
  EXPECT_THROW(locks.canAcquireNow({excl("x")}, ""), LockError);
  EXPECT_TRUE(locks.waiting().empty());
}

// Random traffic over master and slave locks: before every acquire,
// canAcquireNow() predicts its outcome.
TEST_F(LockManagerTest, CanAcquireNowPredictsAcquire) {
  locks.configure({lockDef("A"), lockDef("B", 2), lockDef("cpu", 1, "slave", {{"s2", 3}})});
  std::mt19937 rng(7);
  const std::vector<LockAccess> choices = {excl("A"), counting("A"), excl("B"), counting("B"),
                                           excl("cpu"), counting("cpu")};
  std::vector<RequestId> live;
  int grants = 0;
  int waits = 0;
  for (int i = 0; i < 400; ++i) {
    if (rng() % 3 == 0 && !live.empty()) {
      std::size_t k = rng() % live.size();
      locks.release(live[k]);
      live.erase(live.begin() + static_cast<long>(k));
      continue;
    }
    std::vector<LockAccess> wanted;
    for (std::size_t n = 1 + rng() % 2; n > 0; --n) wanted.push_back(choices[rng() % choices.size()]);
    std::string slave = rng() % 2 ? "s1" : "s2";
    bool predicted = locks.canAcquireNow(wanted, slave);
    auto r = locks.acquire(wanted, slave, "build " + std::to_string(i), [] {});
    ASSERT_EQ(predicted, r.granted) << "request " << i;
    (r.granted ? grants : waits) += 1;
    live.push_back(r.id);
  }
  EXPECT_GT(grants, 0);
  EXPECT_GT(waits, 0);
}

TEST_F(LockManagerTest, CallbacksRunAfterTheStateIsConsistent) {
  locks.configure({lockDef("cpu", 2)});
  RequestId h = take({excl("cpu")}, "h");
  RequestId a = 0;
  RequestId b = 0;
  int calls = 0;
  a = locks.acquire({counting("cpu")}, "", "a", [&] {
        ++calls;
        EXPECT_TRUE(locks.isGranted(a));
        EXPECT_TRUE(locks.isGranted(b)) << "b must be granted before a's callback runs";
        locks.release(a);  // re-entering the manager from a callback is fine
      }).id;
  b = locks.acquire({counting("cpu")}, "", "b", [&] { ++calls; }).id;
  int changes = 0;
  locks.setChangeListener([&] { ++changes; });
  locks.release(h);
  EXPECT_EQ(calls, 2);
  EXPECT_FALSE(locks.isGranted(a));
  EXPECT_TRUE(locks.isGranted(b));
  EXPECT_EQ(changes, 2);  // the release of h, and a's release inside its callback
}

TEST_F(LockManagerTest, WaitingListsOwnersLocksAndSince) {
  locks.configure({lockDef("db"), lockDef("cpu", 1, "slave")});
  clock.setWall(WallTime(1000s));
  take({excl("db"), counting("cpu")}, "build b1 #3", "s1");
  clock.advance(5s);
  clock.setWall(WallTime(1005s));
  RequestId w = take({counting("db"), counting("cpu")}, "build b2 #1", "s1");
  std::vector<LockManager::WaitInfo> info = locks.waiting();
  ASSERT_EQ(info.size(), 1u);
  EXPECT_EQ(info[0].id, w);
  EXPECT_EQ(info[0].owner, "build b2 #1");
  EXPECT_EQ(info[0].since, WallTime(1005s));
  EXPECT_EQ(info[0].sinceSteady, clock.now());
  ASSERT_EQ(info[0].blockedBy.size(), 2u);
  EXPECT_EQ(info[0].blockedBy[0].lock.instance, (LockInstanceId{"db", ""}));
  EXPECT_EQ(info[0].blockedBy[1].lock.instance, (LockInstanceId{"cpu", "s1"}));
  EXPECT_EQ(locks.waitingFor(w),
            "waiting for lock 'db' (counting), held by build b1 #3; "
            "waiting for lock 'cpu' on slave 's1' (counting), held by build b1 #3");
  ASSERT_EQ(locks.holders("db").size(), 1u);
  EXPECT_EQ(locks.holders("db")[0].since, WallTime(1000s));
  EXPECT_EQ(locks.holders("db")[0].mode, LockMode::Exclusive);
  EXPECT_EQ(locks.waitingFor(999), "no lock request 999");
}

}  // namespace
}  // namespace bb
