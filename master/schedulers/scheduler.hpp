#pragma once
// Base of every scheduler type. A scheduler is created from its config
// entry, started once the master is up, and stopped before a reconfig
// replaces it or the master shuts down.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/event_loop.hpp"
#include "config/master_config.hpp"
#include "master/buildsets/buildset_service.hpp"
#include "master/changes/change_bus.hpp"
#include "master/events/event_filter.hpp"

namespace bb::db {
class Database;
}
namespace boost::asio {
class io_context;
}

namespace bb {

struct SchedulerType;  // scheduler_type.hpp

struct SchedulerContext {
  db::Database& db;
  Clock& clock;
  BuildsetService& buildsets;
  // The master's base directory (relative paths in a scheduler's config,
  // such as try_jobdir's jobdir, are under it) and its event loop (for
  // file watches); "" and null in tests that need neither.
  std::string masterDir;
  boost::asio::io_context* io = nullptr;
};

class Scheduler : public ChangeSubscriber {
 public:
  // The change filter is cfg.changeFilter, with cfg.branch as its exact
  // branch when the filter has none (entries built in code set only that).
  Scheduler(SchedulerEntry cfg, SchedulerContext ctx);
  // Ends the scheduler's event subscriptions.
  ~Scheduler() override;

  // Fills a type's registry entry (scheduler_types.cpp) beyond its name
  // and factory: own keys and checks, fire times. A type without any
  // inherits this one, which adds nothing.
  static void declareType(SchedulerType&) {}

  const std::string& name() const { return cfg_.name; }
  const SchedulerEntry& config() const { return cfg_; }
  // Whether this type listens to the change bus at all.
  virtual bool subscribesToChanges() const { return false; }
  // Whether it must run on one master only when several share the
  // database (timers, held changes, upstream BuildSets: it would act twice
  // otherwise). Types that only answer a request made on their master
  // (force, try, triggerable) run on every master.
  virtual bool runsOnOneMaster() const { return true; }
  // A scheduler that runs on every master classifies only the changes its
  // own master accepts (in the transaction that stores each): each change
  // is accepted by one master, so it is classified once.
  bool takesOtherMastersChanges() const override { return runsOnOneMaster(); }
  bool wantsSource(const std::string& source) const override;
  // Applies the change filter: a change that fails it is recorded as
  // "ignored" with the reason; one that passes goes to onMatchingChange().
  void onChange(const db::ChangeRecord& change) override;
  // The filter in effect: the config's, plus cfg.branch and (any_branch)
  // extra["branches"] when the config's filter has none.
  const ChangeFilter& changeFilter() const { return filter_; }
  bool alreadyClassified(const db::ChangeRecord& change) const override;
  // Several masters on one database: gives onChange() every change after
  // its stored floor that it recorded no decision about (accepted while no
  // master ran it, or announced while this master was not listening), each
  // in its own transaction, oldest first; returns how many. The first call
  // for a scheduler only stores the floor (the newest change now): a new
  // scheduler does not build history. The floor follows, one call behind,
  // the changes every one of which it has seen. Throws DbError.
  int catchUpChanges();
  // Drops the stored floor (the scheduler left the config: when it comes
  // back it starts from the changes of then).
  void forgetChangeFloor();
  // Restores persisted state and arms timers.
  virtual void start() {}
  virtual void stop() {}
  // The last error of this scheduler's own asynchronous work ("" if none).
  const std::string& lastError() const { return lastError_; }
  // What the scheduler says of its own state for status views and
  // scheduler.state events: the type's fields (docs/protocol.md §7:
  // next_fire_at/next_fire_local and timezone, stable_at, held_changes,
  // upstream, fields...). Empty here.
  virtual Json describe() const { return Json::object(); }
  // How many held change ids describe() lists (the oldest), so that neither
  // a status reply nor each scheduler.state event grows with a long hold;
  // `held_count` gives the total.
  static constexpr std::size_t kHeldListed = 50;

  // What it did or will do with `change`, for `buildbot change-status`:
  // {state: "waiting"|"ignored", reason, important?}. Called only when it
  // made no BuildSet containing the change. `decision` is what it recorded
  // about the change (nullptr if nothing); `built` lists every BuildSet
  // that contains the change, by the scheduler that made it.
  using BuiltBy = std::map<std::string, std::vector<db::BuildsetRecord>>;
  virtual Json changeState(const db::ChangeRecord& change, const db::ChangeDecision* decision,
                           const BuiltBy& built) const;

 protected:
  // Why a change this scheduler holds is waiting, when its decision gave
  // no reason (the tree-stable timer here; nightly: its next run).
  virtual std::string waitingReason() const;
  // The type's own rule for a change that passed the change filter; runs
  // inside the change's transaction.
  virtual void onMatchingChange(const db::ChangeRecord&) {}
  // Records what this scheduler decided about `change` (important,
  // unimportant or ignored, and why) for the per-change status. Runs inside
  // the change's transaction.
  void decide(const db::ChangeRecord& change, const std::string& decision,
              const std::string& reason) const;
  // The common rule for a change that passed the change filter (single_branch,
  // any_branch): records the decision, drops an unimportant change under
  // only_important, and without a tree-stable timer builds an important
  // change at once. Returns true when the caller should hold the change for
  // its timer; `important` tells which kind it is.
  bool classifyForTimer(const db::ChangeRecord& change, bool& important);
  // The configured properties as {name: [value, "Scheduler"]}.
  Json schedulerProperties() const;
  // Adds the properties of the changes `changeIds` to `props` as
  // {name: [value, "Change"]}, over what is there (the scheduler's own);
  // where changes disagree the newest wins. Missing changes are skipped.
  // `known`, when given, is one of the changes as the caller has it, so
  // that it is not read from the database again (here and below).
  void mergeChangeProperties(const std::vector<std::int64_t>& changeIds, Json& props,
                             const db::ChangeRecord* known = nullptr) const;
  // The source stamp of the newest of `changeIds`, carrying all of them;
  // nullopt (logged) if that change is missing from the database.
  std::optional<db::SourceStamp> sourceStampFor(const std::vector<std::int64_t>& changeIds,
                                                const db::ChangeRecord* known = nullptr) const;
  // One BuildSet for `changeIds` on the newest change's source stamp, with
  // the scheduler's properties and the changes' over them (the rule of
  // single_branch and any_branch).
  void submitChanges(const std::vector<std::int64_t>& changeIds, const db::ChangeRecord* known = nullptr);
  // Changes held for a timer or the next nightly run are stored one row per
  // change (state key "pending-change:ID", value `info`), so holding the
  // N-th change writes one row instead of rewriting an N-long list.
  void storePendingChange(std::int64_t changeId, const Json& info);
  void dropPendingChanges(const std::vector<std::int64_t>& changeIds);
  // Every stored pending change with its info, by id ascending.
  std::vector<std::pair<std::int64_t, Json>> storedPendingChanges() const;
  // single_branch and any_branch: without a tree-stable timer each change
  // is decided on its own, with no state, so the scheduler runs on every
  // master (each builds the changes its master accepted, with no
  // notification and no second transaction per change); with a timer, or
  // with changes still held from a config that had one (read once, the
  // answer kept for the scheduler's lifetime), on one master.
  bool runsOnOneMasterForTimer() const;
  // Subscribes `fn` to the events `filter` matches, for the scheduler's
  // lifetime. A throw from `fn` goes to fail(): the scheduler records it
  // and keeps its subscription and its other work.
  void listen(EventFilter filter, std::function<void(const Event&)> fn);
  // The one failure path of the scheduler's asynchronous work (a timer, an
  // event): logs it, keeps it as lastError() and announces it in a
  // scheduler.state event. The caller leaves its state as it was.
  void fail(const std::string& what, const std::exception& e);
  // Publishes scheduler.state with `data` (its next fire time, held
  // changes, timer deadline...).
  void publishState(Json data);
  // What a scheduler.state event carries is the change, not the whole
  // describe(): one is published for every held change, so it stays small
  // (docs/protocol.md §7 lists the fields).
  // `fn` as a timer callback: a throw goes to fail() (recorded, the
  // scheduler keeps its other work) instead of up the event loop.
  std::function<void()> guarded(std::string what, std::function<void()> fn);
  // {next_fire_at: unix seconds, next_fire_local: the time in `tz`,
  // timezone}, or nulls when `t` is not set: how a timed scheduler shows
  // its next run.
  static Json nextFireView(std::optional<WallTime> t, const std::string& tz);
  // The first `max` of `ids`, as a JSON array.
  static Json heldView(const std::vector<std::int64_t>& ids, std::size_t max = kHeldListed);
  // The key under which this scheduler keeps state in the database.
  std::string stateObject() const { return "scheduler:" + cfg_.name; }
  SchedulerEntry cfg_;
  SchedulerContext ctx_;
  ChangeFilter filter_;  // types may widen it in their constructor (any_branch)

 private:
  // The newest change id the last catch-up found; the floor moves there at
  // the next one (a change committed late with a lower id is not skipped).
  std::optional<std::int64_t> seenThrough_;
  mutable std::optional<bool> holdsStoredChanges_;  // runsOnOneMasterForTimer's read
  std::vector<std::uint64_t> subscriptions_;
  std::string lastError_;
};

}  // namespace bb
