#pragma once
// The one bus every change source publishes to. A Change is stored and
// classified by every subscribed scheduler in ONE transaction, so a crash
// never loses an accepted change or what the schedulers decided about it.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "master/db/records.hpp"

namespace bb::db {
class Database;
}

namespace bb {

class EventBus;

class ChangeSubscriber {
 public:
  virtual ~ChangeSubscriber() = default;
  // True if changes from the source named `source` should reach onChange.
  virtual bool wantsSource(const std::string& source) const = 0;
  // Classifies a committed-in-this-transaction change.
  virtual void onChange(const db::ChangeRecord& change) = 0;
  // Whether it already classified `change` (a change another master
  // announced after this one caught up on it): then it is not given again.
  virtual bool alreadyClassified(const db::ChangeRecord&) const { return false; }
  // Whether changes another master accepted reach it too (false: it runs
  // on every master and sees the changes its own master accepts, each in
  // the transaction that stores it).
  virtual bool takesOtherMastersChanges() const { return true; }
};

class ChangeBus {
 public:
  // change.added goes on `events` once the change's transaction commits.
  ChangeBus(db::Database& db, EventBus& events) : db_(db), events_(events) {}

  void subscribe(ChangeSubscriber* s);
  void unsubscribe(ChangeSubscriber* s);
  // Whether any scheduler here takes changes another master accepted (one
  // that stands by while another master runs it does not, nor one that
  // runs on every master).
  bool takesOtherMastersChanges() const;
  // Called after each subscribe and unsubscribe (one listener: the
  // cluster's, which tells the other masters whether to announce their
  // changes to this one).
  void onSubscribersChanged(std::function<void()> fn) { subscribersChanged_ = std::move(fn); }

  // Stores `change` (its id is assigned) and fans it out, all in one
  // transaction; `alsoInTransaction` (e.g. a poller's state update) runs
  // inside it too. Returns the new change id. Throws DbError, in which
  // case nothing of it was stored.
  std::int64_t addChange(db::ChangeRecord change,
                         const std::function<void()>& alsoInTransaction = {});
  // A change another master on the shared database accepted (and its
  // schedulers classified): this master's subscribers that have not
  // classified it yet classify it, in one transaction; nothing is stored
  // for the change itself and no change.added is published. Throws
  // DbError, in which case none of their decisions was stored.
  void deliverFromOtherMaster(const db::ChangeRecord& change);
  std::uint64_t changesAdded() const { return added_; }

 private:
  db::Database& db_;
  EventBus& events_;
  std::vector<ChangeSubscriber*> subscribers_;
  std::function<void()> subscribersChanged_;
  std::uint64_t added_ = 0;
};

}  // namespace bb
