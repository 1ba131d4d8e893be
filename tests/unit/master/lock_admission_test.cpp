// The deadlock rule for build and step locks (LockAdmission) with the
// LockManager, driven the way the distributor drives them: requests in
// FIFO order start on a free slave only if their build locks can be had
// and the rule admits them; a request held back keeps later contending
// ones behind it. The randomized test runs many random lock graphs to
// completion and checks the limits on every step; the A/B test shows the
// same simulation deadlocks without the rule, so it can fail.
#include "master/locks/lock_admission.hpp"

#include <gtest/gtest.h>

#include <list>
#include <random>
#include <set>

#include "common/event_loop.hpp"
#include "master/locks/lock_manager.hpp"

namespace bb {
namespace {

LockEntry lockAdmissionLockDef(const std::string& name, int maxCount = 1, const std::string& scope = "master") {
  LockEntry e;
  e.name = name;
  e.scope = scope;
  e.maxCount = maxCount;
  return e;
}

struct SimBuilder {
  std::string name;
  std::vector<LockAccess> buildLocks;
  std::vector<std::vector<LockAccess>> steps;  // each step's locks
  std::vector<std::string> slaves;
};

BuilderEntry entryOf(const SimBuilder& b) {
  BuilderEntry e;
  e.name = b.name;
  e.locks = b.buildLocks;
  for (const auto& s : b.steps) {
    StepConfig c;
    c.locks = s;
    e.steps.push_back(c);
  }
  return e;
}

// One master's worth of builders, slaves and queued requests.
class Simulation {
 public:
  Simulation(std::vector<LockEntry> locks, std::vector<SimBuilder> builders,
             std::map<std::string, int> slaves, bool useRule, unsigned seed)
      : mgr_(clock_), admission_(mgr_), builders_(std::move(builders)), slots_(std::move(slaves)),
        useRule_(useRule), rng_(seed) {
    mgr_.configure(locks);
    for (const auto& l : locks) limits_[l.name] = l.maxCount;
    for (const auto& l : locks) scopes_[l.name] = l.scope;
  }

  void queue(std::size_t builder) { queue_.push_back({nextKey_++, builder}); }

  // Runs until every request has finished; returns "" or why it stopped.
  std::string run(int maxTicks = 200000) {
    for (int tick = 0; tick < maxTicks; ++tick) {
      if (queue_.empty() && runs_.empty()) return "";
      const bool started = distribute();
      const bool moved = advance();
      if (auto bad = checkLimits(); !bad.empty()) return bad;
      if (!started && !moved) return "stalled: " + describe();
    }
    return "did not finish in time: " + describe();
  }
  std::size_t finished() const { return finished_; }

 private:
  struct Request {
    std::int64_t key;
    std::size_t builder;
  };
  struct Run {
    std::int64_t key;
    std::size_t builder;
    std::string slave, owner;
    RequestId buildReq = 0, stepReq = 0;
    std::size_t step = 0;
    bool waiting = false, inStep = false;
    int ticksLeft = 0;
  };

  BuildLockPlan plan(const SimBuilder& b, const std::string& slave) const {
    return {b.name, slave, b.buildLocks, stepLocksOf(entryOf(b))};
  }

  // The distributor's pass (master/process/distributor.cpp), FIFO.
  bool distribute() {
    bool started = false;
    std::vector<LockAccess> reserved;
    std::vector<BuildLockPlan> blocked;
    for (auto it = queue_.begin(); it != queue_.end();) {
      const SimBuilder& b = builders_[it->builder];
      bool conflict = false;
      for (const auto& w : b.buildLocks)
        for (const auto& r : reserved)
          if (w.lock == r.lock && (w.access == "exclusive" || r.access == "exclusive")) conflict = true;
      if (useRule_)
        for (const auto& p : blocked)
          if (admission_.contends(p, plan(b, ""))) conflict = true;
      if (conflict) {
        ++it;
        continue;
      }
      std::string chosen;
      bool anyFree = false;
      for (const auto& s : b.slaves) {
        if (running_[s] >= slots_[s]) continue;
        anyFree = true;
        if (!mgr_.canAcquireNow(b.buildLocks, s)) continue;
        if (useRule_ && !admission_.whyNot(plan(b, s)).empty()) continue;
        chosen = s;
        break;
      }
      if (chosen.empty()) {
        if (anyFree && !b.buildLocks.empty()) {
          for (const auto& w : b.buildLocks)
            if (scopes_[w.lock] == "master") reserved.push_back(w);
          blocked.push_back(plan(b, ""));
        }
        ++it;
        continue;
      }
      for (const auto& w : b.buildLocks)
        if (scopes_[w.lock] == "master") reserved.push_back(w);
      start(*it, chosen);
      it = queue_.erase(it);
      started = true;
    }
    return started;
  }

  void start(const Request& r, const std::string& slave) {
    const SimBuilder& b = builders_[r.builder];
    ++running_[slave];
    if (useRule_) admission_.admit(r.key, plan(b, slave));
    runs_.push_back(Run{r.key, r.builder, slave, b.name + " #" + std::to_string(r.key)});
    Run& run = runs_.back();
    auto res = mgr_.acquire(b.buildLocks, slave, run.owner, [] {});
    EXPECT_TRUE(res.granted) << "canAcquireNow said yes for " << run.owner;
    run.buildReq = res.id;
  }

  // Moves every run one step on, in random order; true if any did.
  bool advance() {
    std::vector<Run*> order;
    for (auto& r : runs_) order.push_back(&r);
    std::shuffle(order.begin(), order.end(), rng_);
    bool moved = false;
    std::set<std::int64_t> done;
    for (Run* r : order) {
      const SimBuilder& b = builders_[r->builder];
      if (r->waiting) continue;
      moved = true;
      if (!r->inStep) {
        if (r->step == b.steps.size()) {
          mgr_.release(r->buildReq);
          if (useRule_) admission_.remove(r->key);
          --running_[r->slave];
          done.insert(r->key);
          continue;
        }
        r->waiting = true;
        auto res = mgr_.acquire(b.steps[r->step], r->slave, r->owner, [r] {
          r->waiting = false;
          r->inStep = true;
        });
        r->stepReq = res.id;
        if (res.granted) {
          r->waiting = false;
          r->inStep = true;
        }
        r->ticksLeft = 1 + static_cast<int>(rng_() % 3);
      } else if (--r->ticksLeft <= 0) {
        mgr_.release(r->stepReq);
        r->inStep = false;
        ++r->step;
      }
    }
    runs_.remove_if([&](const Run& r) { return done.count(r.key) > 0; });
    finished_ += done.size();
    return moved;
  }

  std::string checkLimits() const {
    for (const auto& inst : mgr_.instances()) {
      std::set<std::string> owners, exclusive;
      for (const auto& h : inst.holders) {
        owners.insert(h.owner);
        if (h.mode == LockMode::Exclusive) exclusive.insert(h.owner);
      }
      if (!exclusive.empty() && owners.size() > 1)
        return toString(inst.id) + " is held exclusively by " + *exclusive.begin() + " and by others";
      if (static_cast<int>(owners.size()) > inst.maxCount)
        return toString(inst.id) + " has " + std::to_string(owners.size()) + " holders, limit " +
               std::to_string(inst.maxCount);
    }
    return "";
  }

  std::string describe() const {
    std::string out = std::to_string(queue_.size()) + " queued, " + std::to_string(runs_.size()) + " running";
    for (const auto& w : mgr_.waiting()) out += "\n  " + w.owner + ": " + mgr_.waitingFor(w.id);
    return out;
  }

  ManualClock clock_;
  LockManager mgr_;
  LockAdmission admission_;
  std::vector<SimBuilder> builders_;
  std::map<std::string, int> slots_;
  std::map<std::string, int> running_;
  std::map<std::string, int> limits_;
  std::map<std::string, std::string> scopes_;
  bool useRule_;
  std::mt19937 rng_;
  std::list<Request> queue_;
  std::list<Run> runs_;
  std::int64_t nextKey_ = 1;
  std::size_t finished_ = 0;
};

LockAccess lockAdmissionExcl(const std::string& l) { return {l, "exclusive"}; }
LockAccess lockAdmissionCounting(const std::string& l) { return {l, "counting"}; }

std::vector<SimBuilder> abBuilders() {
  return {{"a", {lockAdmissionExcl("L1")}, {{}, {lockAdmissionExcl("L2")}, {}}, {"s1", "s2"}},
          {"b", {lockAdmissionExcl("L2")}, {{}, {lockAdmissionExcl("L1")}, {}}, {"s1", "s2"}}};
}

TEST(LockAdmission, TheABPatternDeadlocksWithoutTheRule) {
  // The simulation can fail: without the rule, A and B start together and
  // each waits in its step for the other's build lock.
  Simulation sim({lockAdmissionLockDef("L1"), lockAdmissionLockDef("L2")}, abBuilders(), {{"s1", 1}, {"s2", 1}}, false, 1);
  for (int i = 0; i < 20; ++i) {
    sim.queue(0);
    sim.queue(1);
  }
  EXPECT_NE(sim.run().find("stalled"), std::string::npos);
}

TEST(LockAdmission, TheABPatternCompletesWithTheRule) {
  Simulation sim({lockAdmissionLockDef("L1"), lockAdmissionLockDef("L2")}, abBuilders(), {{"s1", 1}, {"s2", 1}}, true, 1);
  for (int i = 0; i < 20; ++i) {
    sim.queue(0);
    sim.queue(1);
  }
  EXPECT_EQ(sim.run(), "");
  EXPECT_EQ(sim.finished(), 40u);
}

TEST(LockAdmission, WhyNotNamesTheCycleAndClearsWhenTheOtherBuildEnds) {
  ManualClock clock;
  LockManager mgr(clock);
  mgr.configure({lockAdmissionLockDef("L1"), lockAdmissionLockDef("L2")});
  LockAdmission adm(mgr);
  adm.admit(1, {"build a #1", "s1", {lockAdmissionExcl("L1")}, {lockAdmissionExcl("L2")}});
  const std::string why = adm.whyNot({"a build of b", "s2", {lockAdmissionExcl("L2")}, {lockAdmissionExcl("L1")}});
  EXPECT_NE(why.find("build a #1"), std::string::npos) << why;
  EXPECT_NE(why.find("a build of b"), std::string::npos) << why;
  EXPECT_EQ(adm.whyNot({"a build of c", "s2", {lockAdmissionExcl("L2")}, {}}), "") << "no step lock, no cycle";
  adm.remove(1);
  EXPECT_EQ(adm.whyNot({"a build of b", "s2", {lockAdmissionExcl("L2")}, {lockAdmissionExcl("L1")}}), "");
}

TEST(LockAdmission, CountingLocksMakeAnEdgeOnlyWhenBuildLongHoldersCanFillThem) {
  ManualClock clock;
  LockManager mgr(clock);
  mgr.configure({lockAdmissionLockDef("L", 2), lockAdmissionLockDef("M")});
  LockAdmission adm(mgr);
  // A holds L counting for its build and waits in a step for M.
  adm.admit(1, {"a", "s1", {lockAdmissionCounting("L")}, {lockAdmissionExcl("M")}});
  // B holds M and wants L counting in a step: one of L's two slots is free
  // for good, so B never waits for A.
  EXPECT_EQ(adm.whyNot({"b", "s2", {lockAdmissionExcl("M")}, {lockAdmissionCounting("L")}}), "");
  // With C also holding L for its whole build, both slots can be taken.
  adm.admit(2, {"c", "s3", {lockAdmissionCounting("L")}, {}});
  EXPECT_NE(adm.whyNot({"b", "s2", {lockAdmissionExcl("M")}, {lockAdmissionCounting("L")}}), "");
}

TEST(LockAdmission, AStepUpgradingItsBuildsCountingLockIsAdmittedOnlyAlone) {
  ManualClock clock;
  LockManager mgr(clock);
  mgr.configure({lockAdmissionLockDef("L", 3)});
  LockAdmission adm(mgr);
  adm.admit(1, {"a", "s1", {lockAdmissionCounting("L")}, {lockAdmissionExcl("L")}});
  EXPECT_NE(adm.whyNot({"b", "s2", {lockAdmissionCounting("L")}, {lockAdmissionExcl("L")}}), "")
      << "two builds holding L counting and each upgrading in a step wait for each other";
  EXPECT_EQ(adm.whyNot({"c", "s2", {lockAdmissionCounting("L")}, {}}), "") << "a plain holder is waited for, no cycle";
}

// Random builders over random locks (master and slave scoped, exclusive
// and counting, limits 1-3), with build locks, step locks, upgrades and
// repeats; random slaves and slots; a queue of requests. Every seed must
// run to completion with no limit exceeded.
TEST(LockAdmission, RandomLockGraphsAlwaysComplete) {
  for (unsigned seed = 1; seed <= 400; ++seed) {
    std::mt19937 rng(seed);
    auto pick = [&](unsigned n) { return static_cast<unsigned>(rng() % n); };
    std::vector<LockEntry> locks;
    const unsigned nLocks = 2 + pick(4);
    for (unsigned l = 0; l < nLocks; ++l)
      locks.push_back(lockAdmissionLockDef("L" + std::to_string(l), 1 + static_cast<int>(pick(3)),
                              pick(4) == 0 ? "slave" : "master"));
    auto lockAccess = [&] {
      return LockAccess{"L" + std::to_string(pick(nLocks)), pick(2) ? "exclusive" : "counting"};
    };
    std::map<std::string, int> slaves;
    const unsigned nSlaves = 1 + pick(3);
    std::vector<std::string> slaveNames;
    for (unsigned s = 0; s < nSlaves; ++s) {
      slaveNames.push_back("s" + std::to_string(s));
      slaves[slaveNames.back()] = 1 + static_cast<int>(pick(2));
    }
    std::vector<SimBuilder> builders;
    const unsigned nBuilders = 2 + pick(4);
    for (unsigned i = 0; i < nBuilders; ++i) {
      SimBuilder b;
      b.name = "b" + std::to_string(i);
      for (unsigned k = pick(3); k > 0; --k) b.buildLocks.push_back(lockAccess());
      for (unsigned st = 1 + pick(4); st > 0; --st) {
        std::vector<LockAccess> step;
        for (unsigned k = pick(3); k > 0; --k) step.push_back(lockAccess());
        b.steps.push_back(step);
      }
      for (const auto& s : slaveNames)
        if (pick(3) != 0 || b.slaves.empty()) b.slaves.push_back(s);
      builders.push_back(b);
    }
    Simulation sim(locks, builders, slaves, true, seed);
    const unsigned nRequests = 20 + pick(40);
    for (unsigned r = 0; r < nRequests; ++r) sim.queue(pick(nBuilders));
    const std::string result = sim.run();
    ASSERT_EQ(result, "") << "seed " << seed;
    ASSERT_EQ(sim.finished(), nRequests) << "seed " << seed;
  }
}

}  // namespace
}  // namespace bb
