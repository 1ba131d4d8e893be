#pragma once
// Events that cross masters on a shared database (PostgreSQL): what this
// master commits that another master must act on is announced with NOTIFY
// carrying ids, and what the others announce is heard on a listening
// session (db::DbListener) and fed to this master's own paths. Each
// notification's payload is "MASTER:ID,ID,..." (the sender's master id
// first, so a master skips its own; bb_status's ids carry a letter naming
// the event, in the order they happened); the listener reads the rows.
//
//   channel            sent after                      a listener
//   bb_request         request.created / .unclaimed /  wakes its distributor
//                      .priority (after this master's
//                      own pass, only those it did
//                      not take); a dead master's
//                      requests released
//   bb_change_mID      change.added, only to each      feeds the change to the
//                      master ID that wants changes    schedulers it owns
//   bb_buildset_done_mID buildset.completed, only to   publishes it on its bus
//                      each master ID that wants them  (dependent, trigger waits)
//   bb_scheduler       schedulers released (clean      tries to claim the
//                      stop, dead master)              schedulers it lacks
//   bb_lock            master-scoped locks released    tries its waiting lock
//                      or lock plans dropped           requests again and
//                      (shared_locks.hpp), a dead      wakes its distributor
//                      master's dropped
//   bb_status          buildset.created, build.        publishes them on its bus
//                      started/.finished, step.        for watchers, pages and
//                      started/.finished, log.lines,   reporters (status_relay.hpp)
//                      while another active master
//                      wants status (bb_wants)
//   bb_wants           this master's wishes changed    reads again whether any
//                                                      other master wants status
//
// bb_status is sent only while another active master has someone for it
// (a watcher, an event stream, a reporter: masters.wants_status). A master
// raises its flag as soon as its first such subscriber comes and lowers it
// at the next refresh (every heartbeat interval) after the last one left;
// the others re-read the flags on bb_wants, on each refresh and when their
// listening session comes back. A new watcher therefore sees the other
// masters' events from a moment after it subscribed (one notification),
// as it sees none of theirs from before.
//
// Changes and completed BuildSets are announced only to the masters that
// want them (masters.wants_changes / wants_buildsets, stored with
// wants_status): one statement per round notifies the channel of each
// master whose flag is set as the statement runs, so the sender reads no
// flags. A master that raises a wish stores it first and then reads what
// it may have missed from the tables (the schedulers catch up on changes;
// BuildSets completed since a margin before the wish arose are published
// as if heard); a second delivery is harmless. Each master also listens on
// bb_change and bb_buildset_done, which masters before schema 18 send.
//
// On a database one master has alone (SQLite) nothing is made: the
// master's own event bus already reaches everything.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "master/db/records.hpp"

namespace boost::asio {
class io_context;
}
namespace bb::db {
class Database;
class DbListener;
}  // namespace bb::db

namespace bb {

class Clock;
class EventBus;
class BuildsetService;
class StatusRelay;
class Timer;

class ClusterEvents {
 public:
  // What a heard notification leads to on this master. Each may be empty.
  struct Hooks {
    std::function<void()> wakeDistributor;
    // A change another master accepted, read from the database.
    std::function<void(const db::ChangeRecord&)> changeFromOtherMaster;
    // Whether a scheduler here takes changes now; false: another master's
    // change is not even read (a scheduler claimed later catches up).
    std::function<bool()> wantsChanges;
    // Schedulers were released somewhere: try to claim the unowned ones.
    std::function<void()> schedulersReleased;
    // The schedulers catch up on changes announced while this master did
    // not hear them: its listening session was down, or its wish for
    // changes was not stored yet.
    std::function<void()> catchUpChanges;
    // Master-scoped locks were released somewhere: try the waiters again.
    std::function<void()> locksReleased;
    // Runs work after what is already posted on this master's loop (the
    // distributor's pass woken by the same events), and whether this
    // master holds a request (claimed it, pinging or building). With both,
    // the notifications of a round that made requests go out after this
    // master's own pass, without the requests it took: another master is
    // not woken to race for a request this one has already started.
    std::function<void(std::function<void()>)> later;
    std::function<bool(std::int64_t)> holdsRequest;
  };

  // Subscribes to `events` (the sending side) and opens the listening
  // session on the database's server (the receiving side). Throws DbError
  // if the database is shared and the listening session cannot be made.
  // `refreshEvery`: how often the masters' wishes for status are read
  // again and this master's own lowered (the heartbeat interval).
  ClusterEvents(db::Database& db, db::MasterId self, EventBus& events, BuildsetService& buildsets,
                boost::asio::io_context& io, Clock& clock, std::chrono::milliseconds refreshEvery,
                Hooks hooks);
  ~ClusterEvents();
  ClusterEvents(const ClusterEvents&) = delete;
  ClusterEvents& operator=(const ClusterEvents&) = delete;

  // Whether anything crosses masters (the database is shared).
  bool active() const { return listener_ != nullptr; }

  // Announces to the other masters, outside the event bus: requests back in
  // the queue / schedulers released (a dead master's, or this master's
  // own at a clean stop). A failure is logged, never thrown.
  void announceRequests();
  void announceSchedulersReleased();
  void announceLocksReleased();

  // Something here may have come to want, or stopped wanting, the other
  // masters' changes (a scheduler started or stopped): a wish that rose
  // is stored at once (EventBus subscribers are followed by themselves).
  void wishesMayHaveChanged();

  // Notifications heard from other masters / sent, so far.
  std::uint64_t heard() const { return heard_; }
  std::uint64_t sent() const { return sent_; }

 private:
  void queue(const char* channel, std::string token);
  void flush();
  void flushNow();
  void send(const char* channel, const std::string& ids);
  void onNotify(const std::string& heardOn, const std::string& payload);
  void catchUpCompletedBuildsets(std::int64_t since, const char* when);
  std::int64_t wallSeconds() const;
  // What this master wants of the others' work now; stored (raised at once,
  // posted; lowered by refresh()), followed by a read from the tables of
  // what was not announced here before a raised wish was stored; and
  // whether the others want this one's status, read again.
  db::MasterWishes wanted() const;
  // `now` with every wish stored so far kept up: what a raise stores.
  db::MasterWishes raisedOnly(const db::MasterWishes& now) const;
  // Runs `fn` on this master's loop after what is posted already (at once
  // without Hooks::later), unless this object is gone by then.
  void onLoop(std::function<void()> fn);
  void storeWishes(const db::MasterWishes& w);
  void readOthersWishes();
  void refresh();

  db::Database& db_;
  db::MasterId self_;
  EventBus& events_;
  BuildsetService& buildsets_;
  Clock& clock_;
  Hooks hooks_;
  std::uint64_t subscription_ = 0;
  std::unique_ptr<StatusRelay> relay_;
  std::unique_ptr<db::DbListener> listener_;
  std::map<std::string, std::vector<std::string>> pending_;  // channel -> ids to announce
  std::vector<std::int64_t> newRequests_;  // request.created, announced after this master's pass
  db::MasterWishes stored_;  // this master's wishes as stored
  bool storedKnown_ = false;           // stored once
  bool raisePosted_ = false;           // a raise waits on the loop
  bool raisePending_ = false;          // a raise not stored yet (posted or refused)
  std::int64_t raisedAt_ = 0;          // when it arose (wall seconds)
  bool othersWantStatus_ = true;      // until read: send, as before this existed
  bool wishesKnown_ = false;          // read once (a change is logged after that)
  std::unique_ptr<Timer> refreshTimer_;
  std::chrono::milliseconds refreshEvery_;
  const std::string ownChangeChannel_, ownBuildsetDoneChannel_;  // bb_change_mID, bb_buildset_done_mID
  bool flushPosted_ = false;  // flushNow() waits on the loop behind this master's own pass
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  std::uint64_t heard_ = 0, sent_ = 0;
};

}  // namespace bb
