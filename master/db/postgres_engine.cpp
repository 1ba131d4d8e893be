// The PostgreSQL engine: the only file that includes libpq-fe.h. One
// connection, statements prepared on the server once per connection (named
// bb1, bb2, ...), parameters sent as text (blobs as binary), results read
// as text. Every failure becomes a DbError whose kind comes from the
// SQLSTATE; a lost connection is reset on the next statement outside a
// transaction, and the statements are prepared again on the new one.
//
// The calls are synchronous: each statement is one network round trip on
// the calling thread (docs/multimaster.md, "PostgreSQL", says what that
// costs the master's event loop and docs/performance.md measures it).
#include <libpq-fe.h>

#include <charconv>
#include <cstdlib>
#include <cstring>
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
    if (res_ == nullptr) execute();
    ++row_;
    return row_ < PQntuples(res_);
  }
  void reset() noexcept override {
    PQclear(res_);
    res_ = nullptr;
    row_ = -1;
    for (Param& p : params_) p = Param{};
  }
  int changes() const override {
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

  PgEngine& engine_;
  std::string sql_;     // as written (?N), for messages
  std::string pgSql_;   // with $N
  std::string name_;    // "" for a one-off statement (not prepared on the server)
  unsigned generation_ = 0;  // the connection it was prepared on
  std::vector<Param> params_;
  PGresult* res_ = nullptr;
  int row_ = -1;
  mutable std::string blob_;
};

class PgEngine final : public Engine {
 public:
  PgEngine(const std::string& url, OpenMode) : url_(url) {
    connect();
  }
  ~PgEngine() override { PQfinish(conn_); }

  const Dialect& dialect() const override { return postgresDialect(); }
  const std::string& location() const override { return url_; }

  std::unique_ptr<PreparedStatement> prepare(const char* sql, bool persistent) override {
    return std::make_unique<PgStatement>(*this, sql, persistent);
  }

  void execScript(const std::string& sql, const char* what) override {
    ensureConnected();
    PGresult* r = PQexec(conn_, sql.c_str());
    check(r, std::string(what) + " failed");
    PQclear(r);
  }

  bool inTransaction() const override {
    const auto s = PQtransactionStatus(conn_);
    return s == PQTRANS_INTRANS || s == PQTRANS_INERROR || s == PQTRANS_ACTIVE;
  }

  PGconn* conn() { return conn_; }
  unsigned generation() const { return generation_; }
  std::string nextName() { return "bb" + std::to_string(++names_); }

  // A connection that broke is reset before the next statement, unless a
  // transaction was open on it: that one failed with the connection (its
  // rollback() finds nothing to undo), and the next begin() reconnects.
  void ensureConnected() {
    if (PQstatus(conn_) == CONNECTION_OK) return;
    spdlog::warn("database {}: connection lost, reconnecting", url_);
    PQreset(conn_);
    if (PQstatus(conn_) != CONNECTION_OK) {
      const std::string cause = pgFirstLine(PQerrorMessage(conn_));
      throw DbError(pgHeadline(DbErrorKind::ConnectionLost, url_) + "reconnecting failed: " + cause,
                    DbErrorKind::ConnectionLost, cause);
    }
    ++generation_;
    configure();
    spdlog::info("database {}: reconnected", url_);
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

  std::string url_;
  PGconn* conn_ = nullptr;
  unsigned generation_ = 0;
  unsigned names_ = 0;
};

PgStatement::PgStatement(PgEngine& engine, const char* sql, bool persistent)
    : engine_(engine), sql_(sql) {
  int n = 0;
  pgSql_ = toDollarParams(sql, n);
  params_.resize(static_cast<std::size_t>(n));
  if (persistent) name_ = engine_.nextName();
}

void PgStatement::execute() {
  engine_.ensureConnected();
  PGconn* conn = engine_.conn();
  if (!name_.empty() && generation_ != engine_.generation() + 1) {
    PGresult* r = PQprepare(conn, name_.c_str(), pgSql_.c_str(), static_cast<int>(params_.size()),
                            nullptr);
    engine_.check(r, "preparing `" + sql_ + "`");
    PQclear(r);
    generation_ = engine_.generation() + 1;  // 0 means never prepared
  }
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
  PGresult* r =
      name_.empty()
          ? PQexecParams(conn, pgSql_.c_str(), static_cast<int>(n), nullptr, values.data(),
                         lengths.data(), formats.data(), 0)
          : PQexecPrepared(conn, name_.c_str(), static_cast<int>(n), values.data(), lengths.data(),
                           formats.data(), 0);
  engine_.check(r, "`" + sql_ + "`");
  res_ = r;
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
