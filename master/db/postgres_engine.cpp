// The PostgreSQL engine: the only file that includes libpq-fe.h. One
// connection, statements prepared on the server once per connection (named
// bb1, bb2, ...), parameters sent as text (blobs as binary), results read
// as text. Every failure becomes a DbError whose kind comes from the
// SQLSTATE; a lost connection is reset on the next statement outside a
// transaction, and the statements are prepared again on the new one.
//
// The calls are synchronous, but a transaction's writes whose answers
// nobody reads are sent ahead (PreparedStatement::sendAhead) in libpq's
// pipeline mode: they go to the server with the next statement that waits
// for an answer, usually the COMMIT, so a transaction costs one network
// round trip per statement whose answer it reads plus one, not one per
// statement (docs/multimaster.md, "The event loop and the network", says
// what that leaves on the master's event loop; docs/performance.md
// measures it).
#include <libpq-fe.h>

#include <charconv>
#include <optional>
#include <cstdlib>
#include <cstring>
#include <unordered_set>
#include <vector>

#include <spdlog/spdlog.h>

#include "master/db/engine.hpp"

namespace bb::db {

namespace {

constexpr Oid kByteaOid = 17;
constexpr Oid kBoolOid = 16;

DbErrorKind pgKindOf(const char* sqlstate) {
  if (sqlstate == nullptr) return DbErrorKind::ConnectionLost;
  const std::string_view s(sqlstate);
  if (s.substr(0, 2) == "23") return DbErrorKind::Constraint;
  if (s.substr(0, 2) == "08" || s == "57P01" || s == "57P02" || s == "57P03")
    return DbErrorKind::ConnectionLost;
  if (s == "53100") return DbErrorKind::DiskFull;
  if (s == "40001" || s == "40P01" || s == "55P03") return DbErrorKind::Busy;
  if (s == "XX001" || s == "XX002") return DbErrorKind::Corrupt;
  return DbErrorKind::Other;
}

std::string pgHeadline(DbErrorKind kind, const std::string& url) {
  switch (kind) {
    case DbErrorKind::ConnectionLost:
      return "database " + url + " cannot be reached (connection lost): ";
    case DbErrorKind::DiskFull:
      return "database " + url + " is out of space (the server's disk is full): ";
    case DbErrorKind::Corrupt:
      return "database " + url + " is damaged: ";
    case DbErrorKind::Busy:
      return "database " + url + " is locked by another session: ";
    default:
      return "database " + url + ": ";
  }
}

// libpq's messages end with a newline (and sometimes carry a DETAIL line).
std::string pgFirstLine(const char* msg) {
  std::string s = msg ? msg : "";
  if (const auto nl = s.find('\n'); nl != std::string::npos) s.resize(nl);
  return s;
}

int pgHexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// `?N` placeholders to `$N`, outside quoted strings and identifiers; the
// highest N is the statement's parameter count.
std::string toDollarParams(const char* sql, int& params) {
  std::string out;
  params = 0;
  char quote = 0;
  for (const char* p = sql; *p != '\0'; ++p) {
    const char c = *p;
    if (quote != 0) {
      if (c == quote) quote = 0;
      out += c;
    } else if (c == '\'' || c == '"') {
      quote = c;
      out += c;
    } else if (c == '?' && p[1] >= '0' && p[1] <= '9') {
      int n = 0;
      out += '$';
      while (p[1] >= '0' && p[1] <= '9') {
        n = n * 10 + (p[1] - '0');
        out += *++p;
      }
      if (n > params) params = n;
    } else {
      out += c;
    }
  }
  return out;
}

class PgEngine;

class PgStatement final : public PreparedStatement {
 public:
  PgStatement(PgEngine& engine, const char* sql, bool persistent);
  ~PgStatement() override { PQclear(res_); }

  void bindInt(int index, std::int64_t value) override {
    Param& p = param(index);
    p.value = std::to_string(value);
    p.data = nullptr;
    p.binary = false;
    p.null = false;
  }
  void bindText(int index, std::string_view text) override {
    Param& p = param(index);
    p.value.assign(text.data(), text.size());
    p.data = nullptr;
    p.binary = false;
    p.null = false;
  }
  void bindBlobNoCopy(int index, const void* data, std::size_t size) override {
    Param& p = param(index);
    p.value.clear();
    p.data = static_cast<const char*>(data);
    p.size = size;
    p.binary = true;
    p.null = false;
  }
  void bindNull(int index) override { param(index).null = true; }

  bool step() override {
    if (sentAhead_) throw DbError("`" + sql_ + "` was sent ahead: its answer cannot be read");
    if (res_ == nullptr) execute();
    ++row_;
    return row_ < PQntuples(res_);
  }
  void sendAhead(const std::string& unlessOneChanged) override;
  void reset() noexcept override {
    PQclear(res_);
    res_ = nullptr;
    row_ = -1;
    sentAhead_ = false;
    for (Param& p : params_) p = Param{};
  }
  int changes() const override {
    if (sentAhead_) throw DbError("`" + sql_ + "` was sent ahead: its changes cannot be read");
    const char* n = res_ ? PQcmdTuples(res_) : "";
    return *n ? std::atoi(n) : 0;
  }

  std::int64_t getInt(int col) const override {
    if (PQgetisnull(res_, row_, col)) return 0;
    const char* v = PQgetvalue(res_, row_, col);
    const int len = PQgetlength(res_, row_, col);
    if (PQftype(res_, col) == kBoolOid) return v[0] == 't' ? 1 : 0;
    std::int64_t out = 0;
    const auto [end, ec] = std::from_chars(v, v + len, out);
    // numeric (sum() of BIGINT) may print "12.000": the integer part.
    if (ec != std::errc() || (end != v + len && *end != '.'))
      throw DbError("column " + columnName(col) + " of `" + sql_ + "` is not an integer: '" +
                        std::string(v, static_cast<std::size_t>(len)) + "'",
                    DbErrorKind::Corrupt);
    return out;
  }
  std::string getText(int col) const override {
    if (PQgetisnull(res_, row_, col)) return {};
    if (PQftype(res_, col) == kByteaOid) return std::string(getBlob(col));
    return std::string(PQgetvalue(res_, row_, col),
                       static_cast<std::size_t>(PQgetlength(res_, row_, col)));
  }
  std::string_view getBlob(int col) const override {
    if (PQgetisnull(res_, row_, col)) return {};
    const char* v = PQgetvalue(res_, row_, col);
    const auto len = static_cast<std::size_t>(PQgetlength(res_, row_, col));
    if (PQftype(res_, col) != kByteaOid) return std::string_view(v, len);
    // bytea's text form: \x followed by two hex digits a byte.
    if (len < 2 || v[0] != '\\' || v[1] != 'x')
      throw DbError("column " + columnName(col) + " holds bytea not in hex form",
                    DbErrorKind::Corrupt);
    blob_.resize((len - 2) / 2);
    for (std::size_t i = 0; i < blob_.size(); ++i) {
      const int hi = pgHexValue(v[2 + 2 * i]), lo = pgHexValue(v[3 + 2 * i]);
      if (hi < 0 || lo < 0)
        throw DbError("column " + columnName(col) + " holds bad hex", DbErrorKind::Corrupt);
      blob_[i] = static_cast<char>(hi * 16 + lo);
    }
    return std::string_view(blob_.data(), blob_.size());
  }
  bool isNull(int col) const override { return PQgetisnull(res_, row_, col) != 0; }
  std::string columnName(int col) const override {
    const char* name = res_ ? PQfname(res_, col) : nullptr;
    return name ? name : "#" + std::to_string(col);
  }
  std::string sql() const override { return sql_; }

 private:
  struct Param {
    std::string value;
    const char* data = nullptr;  // a blob lent by bindBlobNoCopy
    std::size_t size = 0;
    bool binary = false;
    bool null = true;
  };
  Param& param(int index) {
    if (index < 1 || index > static_cast<int>(params_.size()))
      throw DbError("bind index " + std::to_string(index) + " out of range for `" + sql_ + "`");
    return params_[static_cast<std::size_t>(index - 1)];
  }
  void execute();
  // Queues the statement (and its PREPARE on a connection that has not
  // seen it) in the engine's pipeline.
  void send(const std::string& unlessOneChanged = {});

  PgEngine& engine_;
  std::string sql_;     // as written (?N), for messages
  std::string pgSql_;   // with $N
  std::string name_;    // "" for a one-off statement (not prepared on the server)
  std::vector<Param> params_;
  PGresult* res_ = nullptr;
  int row_ = -1;
  bool sentAhead_ = false;
  mutable std::string blob_;
};

class PgEngine final : public Engine {
 public:
  PgEngine(const std::string& url, OpenMode) : url_(url) {
    // BB_PG_SEND_AHEAD=0 makes every statement wait for its answer, as
    // before pipelining: bench/dispatch_bench compares the two.
    const char* ahead = std::getenv("BB_PG_SEND_AHEAD");
    sendsAhead_ = ahead == nullptr || std::string_view(ahead) != "0";
    connect();
  }
  ~PgEngine() override { PQfinish(conn_); }

  const Dialect& dialect() const override { return postgresDialect(); }
  const std::string& location() const override { return url_; }

  std::unique_ptr<PreparedStatement> prepare(const char* sql, bool persistent) override {
    return std::make_unique<PgStatement>(*this, sql, persistent);
  }

  void execScript(const std::string& sql, const char* what) override {
    settle();  // a script runs outside pipeline mode, after what was sent ahead
    ensureConnected();
    PGresult* r = PQexec(conn_, sql.c_str());
    check(r, std::string(what) + " failed");
    PQclear(r);
  }

  bool inTransaction() const override {
    if (!pending_.empty()) return true;  // BEGIN at least was sent ahead
    if (broken_) return false;           // what was open went with it
    const auto s = PQtransactionStatus(conn_);
    return s == PQTRANS_INTRANS || s == PQTRANS_INERROR || s == PQTRANS_ACTIVE;
  }

  void settle() override {
    if (pending_.empty()) return;
    PGresult* last = finishPipeline();
    PQclear(last);
  }

  Database::Traffic traffic() const override { return traffic_; }

  PGconn* conn() { return conn_; }
  bool sendsAhead() const { return sendsAhead_; }
  std::string nextName() { return "bb" + std::to_string(++names_); }
  // Whether statement `name` is prepared on this connection, or its PREPARE
  // is queued ahead of it.
  bool prepared(const std::string& name) const { return prepared_.count(name) != 0; }

  // A connection that broke is reset before the next statement, unless a
  // transaction was open on it: that one failed with the connection (its
  // rollback() finds nothing to undo), and the next begin() reconnects.
  void ensureConnected() {
    if (PQstatus(conn_) == CONNECTION_OK && !broken_) return;
    spdlog::warn("database {}: connection lost, reconnecting", url_);
    pending_.clear();
    PQreset(conn_);
    if (PQpipelineStatus(conn_) != PQ_PIPELINE_OFF) PQexitPipelineMode(conn_);
    if (PQstatus(conn_) != CONNECTION_OK) {
      const std::string cause = pgFirstLine(PQerrorMessage(conn_));
      throw DbError(pgHeadline(DbErrorKind::ConnectionLost, url_) + "reconnecting failed: " + cause,
                    DbErrorKind::ConnectionLost, cause);
    }
    broken_ = false;
    prepared_.clear();
    configure();
    spdlog::info("database {}: reconnected", url_);
  }

  // --- the pipeline: statements sent ahead, answered at the next wait ---
  // Before the first statement of a pipeline: a working connection in
  // pipeline mode.
  void openPipeline() {
    if (!pending_.empty()) return;
    ensureConnected();
    if (PQenterPipelineMode(conn_) != 1) failSend("entering pipeline mode");
  }
  // After a PQsend* call: remembers what to expect (`prepared`: the name a
  // PREPARE defines), or throws if libpq could not queue it.
  void queued(int ok, const std::string& sql, const std::string& prepared, bool ahead,
              const std::string& unlessOneChanged) {
    if (ok != 1) failSend("`" + sql + "`");
    pending_.push_back(Pending{sql, prepared, unlessOneChanged});
    if (!prepared.empty()) prepared_.insert(prepared);
    if (prepared.empty()) {
      ++traffic_.statements;
      if (ahead) ++traffic_.sentAhead;
    }
  }
  // Sends what is queued with a sync, waits for the server (one round
  // trip), reads every answer and leaves pipeline mode. Returns the last
  // statement's result (the caller's); throws the first failure, naming
  // the statement it belongs to, after reading everything.
  PGresult* finishPipeline() {
    ++traffic_.roundTrips;
    auto pending = std::move(pending_);
    pending_.clear();
    if (PQpipelineSync(conn_) != 1) {
      broken_ = true;
      failSend("sending statements");
    }
    std::optional<DbError> failure;
    std::vector<std::string> unchanged;  // what changed other than one row where one was expected
    PGresult* last = nullptr;
    for (std::size_t i = 0; i < pending.size(); ++i) {
      PGresult* r = PQgetResult(conn_);
      // One answer per statement, then a null that ends it.
      while (PGresult* extra = r ? PQgetResult(conn_) : nullptr) PQclear(extra);
      const auto status = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
      const bool ok = status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
      if (!ok && !pending[i].prepared.empty()) prepared_.erase(pending[i].prepared);
      if (!ok && !failure && status != PGRES_PIPELINE_ABORTED) {
        const std::string what = i + 1 == pending.size()
                                     ? pending[i].sql
                                     : pending[i].sql + "` (sent ahead of `" + pending.back().sql + "`)";
        try {
          check(r, "`" + what + "`");
        } catch (DbError& e) {
          failure.emplace(std::move(e));
        }
        r = nullptr;  // check() cleared it
      }
      if (ok && !pending[i].unlessOneChanged.empty() && std::strcmp(PQcmdTuples(r), "1") != 0)
        unchanged.push_back(pending[i].unlessOneChanged + " (`" + pending[i].sql + "` changed " +
                            (*PQcmdTuples(r) ? PQcmdTuples(r) : "no") + " rows)");
      if (i + 1 == pending.size() && ok) last = r;
      else PQclear(r);
      if (!r && PQstatus(conn_) != CONNECTION_OK) break;
    }
    // The sync's own answer; then the connection may leave pipeline mode.
    for (int nulls = 0;;) {
      PGresult* r = PQgetResult(conn_);
      if (r == nullptr) {
        if (PQstatus(conn_) != CONNECTION_OK || ++nulls > 2) {
          broken_ = true;
          break;
        }
        continue;
      }
      const bool sync = PQresultStatus(r) == PGRES_PIPELINE_SYNC;
      PQclear(r);
      if (sync) break;
    }
    if (PQstatus(conn_) != CONNECTION_OK || PQexitPipelineMode(conn_) != 1) broken_ = true;
    if (!failure && (broken_ || last == nullptr)) {
      PQclear(last);
      failure.emplace(pgHeadline(DbErrorKind::ConnectionLost, url_) + "`" + pending.back().sql + "`: " +
                          pgFirstLine(PQerrorMessage(conn_)),
                      DbErrorKind::ConnectionLost, pgFirstLine(PQerrorMessage(conn_)));
      last = nullptr;
    }
    if (!failure && !unchanged.empty()) {
      // A COMMIT that went with them has committed already: say so, as
      // there is nothing left to fail.
      if (pending.back().sql != "COMMIT") failure.emplace(unchanged.front());
      for (const auto& u : unchanged)
        if (pending.back().sql == "COMMIT") spdlog::error("database {}: {}, found after the commit", url_, u);
    }
    if (failure) {
      PQclear(last);
      throw *failure;
    }
    return last;
  }
  // Throws the DbError for a failed result (and clears it); keeps a good one.
  void check(PGresult* r, const std::string& what) {
    const auto status = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY)
      return;
    const char* field = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
    const std::string state = field ? field : "";
    DbErrorKind kind = pgKindOf(field);
    if (PQstatus(conn_) != CONNECTION_OK) kind = DbErrorKind::ConnectionLost;
    std::string cause = pgFirstLine(r ? PQresultErrorMessage(r) : PQerrorMessage(conn_));
    if (cause.empty()) cause = pgFirstLine(PQerrorMessage(conn_));
    PQclear(r);
    throw DbError(pgHeadline(kind, url_) + what + ": " + cause +
                      (state.empty() ? std::string() : " (SQLSTATE " + state + ")"),
                  kind, cause);
  }

 private:
  void connect() {
    // A password given to setServerPassword() overrides libpq's own
    // lookup; without one the key list ends before it.
    const std::string& password = serverPassword();
    const char* keys[] = {"application_name", "connect_timeout", "dbname",
                          password.empty() ? nullptr : "password", nullptr};
    const char* values[] = {"buildmaster", "10", url_.c_str(), password.c_str(), nullptr};
    conn_ = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
    if (conn_ == nullptr) throw DbError("cannot connect to database " + url_ + ": out of memory");
    if (PQstatus(conn_) != CONNECTION_OK) {
      const std::string cause = pgFirstLine(PQerrorMessage(conn_));
      PQfinish(conn_);
      conn_ = nullptr;
      throw DbError("cannot connect to database " + url_ + ": " + cause,
                    DbErrorKind::ConnectionLost, cause);
    }
    try {
      configure();
    } catch (...) {
      PQfinish(conn_);
      conn_ = nullptr;
      throw;
    }
  }
  // Per connection: notices (e.g. "table does not exist, skipping") go to
  // the log at debug level, not to stderr.
  void configure() {
    PQsetNoticeProcessor(
        conn_, [](void*, const char* msg) { spdlog::debug("postgresql: {}", pgFirstLine(msg)); },
        nullptr);
    PGresult* r = PQexec(conn_, "SET client_min_messages = warning");
    check(r, "configuring the session");
    PQclear(r);
  }

  // libpq could not queue or send: the connection is gone or unusable.
  [[noreturn]] void failSend(const std::string& what) {
    const std::string cause = pgFirstLine(PQerrorMessage(conn_));
    broken_ = true;
    throw DbError(pgHeadline(DbErrorKind::ConnectionLost, url_) + what + ": " + cause,
                  DbErrorKind::ConnectionLost, cause);
  }

  struct Pending {
    std::string sql;       // for messages
    std::string prepared;  // a PREPARE of this name, or "" for a statement
    std::string unlessOneChanged;  // PreparedStatement::sendAhead
  };

  std::string url_;
  PGconn* conn_ = nullptr;
  bool broken_ = false;  // left in a state only a reset repairs
  bool sendsAhead_ = true;
  unsigned names_ = 0;
  std::unordered_set<std::string> prepared_;  // on this connection
  std::vector<Pending> pending_;              // sent ahead, not yet answered
  Database::Traffic traffic_;
};

PgStatement::PgStatement(PgEngine& engine, const char* sql, bool persistent)
    : engine_(engine), sql_(sql) {
  int n = 0;
  pgSql_ = toDollarParams(sql, n);
  params_.resize(static_cast<std::size_t>(n));
  if (persistent) name_ = engine_.nextName();
}

void PgStatement::send(const std::string& unlessOneChanged) {
  PGconn* conn = engine_.conn();
  if (!name_.empty() && !engine_.prepared(name_))
    engine_.queued(PQsendPrepare(conn, name_.c_str(), pgSql_.c_str(), static_cast<int>(params_.size()),
                                 nullptr),
                   "preparing `" + sql_ + "`", name_, false, {});
  const auto n = params_.size();
  std::vector<const char*> values(n);
  std::vector<int> lengths(n), formats(n);
  for (std::size_t i = 0; i < n; ++i) {
    const Param& p = params_[i];
    if (p.null) continue;
    values[i] = p.binary ? (p.data ? p.data : "") : p.value.c_str();
    lengths[i] = static_cast<int>(p.binary ? p.size : p.value.size());
    formats[i] = p.binary ? 1 : 0;
  }
  // libpq copies the parameters into its send buffer here.
  const int ok = name_.empty()
                     ? PQsendQueryParams(conn, pgSql_.c_str(), static_cast<int>(n), nullptr, values.data(),
                                         lengths.data(), formats.data(), 0)
                     : PQsendQueryPrepared(conn, name_.c_str(), static_cast<int>(n), values.data(),
                                           lengths.data(), formats.data(), 0);
  engine_.queued(ok, sql_, "", sentAhead_, unlessOneChanged);
}

void PgStatement::sendAhead(const std::string& unlessOneChanged) {
  if (!engine_.sendsAhead()) {  // measuring what sending ahead saves
    PreparedStatement::sendAhead(unlessOneChanged);
    return;
  }
  engine_.openPipeline();
  sentAhead_ = true;
  send(unlessOneChanged);
}

void PgStatement::execute() {
  // Every statement goes through the pipeline: with what was sent ahead of
  // it, or alone, in one round trip either way.
  engine_.openPipeline();
  send();
  res_ = engine_.finishPipeline();
  row_ = -1;
}

}  // namespace

std::unique_ptr<Engine> openPostgresEngine(const std::string& url, OpenMode mode) {
  return std::make_unique<PgEngine>(url, mode);
}

namespace {
std::string& storedServerPassword() {
  static std::string password;
  return password;
}
}  // namespace

void setServerPassword(std::string password) { storedServerPassword() = std::move(password); }
const std::string& serverPassword() { return storedServerPassword(); }

bool isServerDatabase(const std::string& location) {
  return location.rfind("postgresql://", 0) == 0 || location.rfind("postgres://", 0) == 0;
}

}  // namespace bb::db
