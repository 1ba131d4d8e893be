#pragma once
// Internal to master/db: a borrowed, bound, stepped statement of whichever
// engine the Database runs on. A Statement is handed out by
// Database::stmt() for the length of one call; its destructor resets the
// cached statement so it is ready for reuse.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/message.hpp"
#include "common/results.hpp"
#include "master/db/engine.hpp"

namespace bb::db {

class Statement {
 public:
  // A cached statement: `busy` is cleared and the statement reset on
  // destruction.
  // `inTransaction`: whether a transaction is open, so that runAhead() may
  // send the statement ahead.
  Statement(PreparedStatement& cached, bool& busy, bool inTransaction)
      : ps_(&cached), busy_(&busy), inTransaction_(inTransaction) {}
  // A one-off statement, destroyed with this Statement.
  explicit Statement(std::unique_ptr<PreparedStatement> owned, bool inTransaction = false)
      : ps_(owned.get()), owned_(std::move(owned)), inTransaction_(inTransaction) {}
  ~Statement() {
    if (owned_) return;
    ps_->reset();
    *busy_ = false;
  }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Binders take 1-based parameter indexes, copy their argument (so
  // temporaries are safe) and throw DbError on failure.
  Statement& bind(int index, std::int64_t value) {
    ps_->bindInt(index, value);
    return *this;
  }
  Statement& bind(int index, std::string_view text) {
    ps_->bindText(index, text);
    return *this;
  }
  Statement& bind(int index, Result r) { return bind(index, static_cast<std::int64_t>(r)); }
  Statement& bindJson(int index, const nlohmann::json& value) { return bind(index, value.dump()); }
  Statement& bindNull(int index) {
    ps_->bindNull(index);
    return *this;
  }
  // Binds without copying: `data` must outlive the statement's next step().
  Statement& bindBlobNoCopy(int index, const void* data, std::size_t size) {
    ps_->bindBlobNoCopy(index, data, size);
    return *this;
  }

  // Runs to the next row: true for a row, false when done; throws DbError.
  bool step() { return ps_->step(); }
  // Steps once and requires that the statement is done (no row); throws
  // DbError otherwise.
  void run();
  // For a write whose answer the caller never reads (no changes(), no row,
  // no particular failure it would catch): inside a transaction the engine
  // may send it ahead with the statements that follow, so that they all
  // cost one round trip to a database server (PostgreSQL pipeline mode).
  // Its failure then surfaces at the next statement that waits for an
  // answer or at the COMMIT, and fails the transaction as it would have
  // here. Outside a transaction it runs at once, as run() (any rows it
  // returns are ignored).
  void runAhead() { runAheadImpl({}); }
  // The same for a write that must change exactly one row, `otherwise`
  // being the error (PreparedStatement::sendAhead says when it is thrown).
  void runAheadChangingOne(const std::string& otherwise) { runAheadImpl(otherwise); }
  // Steps once and requires a row (e.g. INSERT ... RETURNING); throws
  // DbError otherwise.
  void requireRow();
  // Rows changed by the last run()/step() of an INSERT/UPDATE/DELETE.
  int changes() const { return ps_->changes(); }

  // Column readers, 0-based. NULL reads as 0 / "" / empty blob.
  std::int64_t getInt(int col) const { return ps_->getInt(col); }
  bool getBool(int col) const { return getInt(col) != 0; }
  std::string getText(int col) const { return ps_->getText(col); }
  std::string_view getBlob(int col) const { return ps_->getBlob(col); }  // valid until the next step()
  bool isNull(int col) const { return ps_->isNull(col); }
  // Throw DbError (kind Corrupt) naming the column for an unknown value /
  // corrupt JSON.
  Result getResult(int col) const;
  nlohmann::json getJson(int col) const;

 private:
  void runAheadImpl(const std::string& unlessOneChanged);

  PreparedStatement* ps_;
  bool* busy_ = nullptr;
  std::unique_ptr<PreparedStatement> owned_;
  bool inTransaction_ = false;
};

}  // namespace bb::db
