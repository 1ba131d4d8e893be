// List reads with their filters, order and page done in SQL (the REST
// API's collections; list_query.hpp). The SQL is built from the fixed
// column expressions below, never from the caller's text: field names are
// looked up, values are bound.
#include <algorithm>
#include <limits>
#include <stdexcept>

#include "master/db/database.hpp"
#include "master/db/statement.hpp"

namespace bb::db {

namespace {

struct Column {
  const char* field;  // the REST API's name
  const char* sql;    // its value in the row, as the REST shape shows it
  ListFieldKind kind;
  bool nullable;
};

constexpr auto I = ListFieldKind::Int;
constexpr auto B = ListFieldKind::Bool;
constexpr auto T = ListFieldKind::Text;

// rest_views.cpp and master/status/*_views.cpp make the shapes these
// mirror; a NULL here is a JSON null there.
constexpr Column kBuilds[] = {
    {"id", "id", I, false},
    {"buildid", "id", I, false},
    {"number", "number", I, false},
    {"builder", "builder", T, false},
    {"request_id", "coalesce(request_id, 0)", I, false},
    {"buildrequestid", "coalesce(request_id, 0)", I, false},
    {"slave", "slave", T, false},
    {"worker", "slave", T, false},
    {"started_at", "started_at", I, false},
    {"finished_at", "finished_at", I, false},
    {"finished", "finished", B, false},
    {"complete", "finished", B, false},
    {"complete_at", "CASE WHEN finished = 1 THEN finished_at END", I, true},
    {"results", "CASE WHEN finished = 1 THEN result END", I, true},
};

constexpr Column kRequests[] = {
    {"id", "id", I, false},
    {"buildrequestid", "id", I, false},
    {"buildsetid", "buildset_id", I, false},
    {"builder", "builder", T, false},
    {"buildername", "builder", T, false},
    {"priority", "priority", I, false},
    {"submitted_at", "submitted_at", I, false},
    {"claimed", "claimed", B, false},
    {"claimed_at", "CASE WHEN claimed = 1 THEN claimed_at END", I, true},
    {"claimed_by_masterid", "CASE WHEN claimed_by != 0 THEN claimed_by END", I, true},
    {"complete", "complete", B, false},
    {"complete_at", "CASE WHEN complete = 1 THEN complete_at END", I, true},
    {"results", "CASE WHEN complete = 1 THEN result END", I, true},
    {"retries", "retries", I, false},
    {"replaced_by", "CASE WHEN replaced_by != 0 THEN replaced_by END", I, true},
};

constexpr Column kBuildsets[] = {
    {"id", "id", I, false},
    {"bsid", "id", I, false},
    {"reason", "reason", T, false},
    {"scheduler", "scheduler", T, false},
    {"submitted_at", "submitted_at", I, false},
    {"complete", "complete", B, false},
    {"complete_at", "CASE WHEN complete = 1 THEN complete_at END", I, true},
    {"results", "CASE WHEN complete = 1 THEN result END", I, true},
    {"parent_buildid", "CASE WHEN parent_build_id != 0 THEN parent_build_id END", I, true},
};

constexpr Column kChanges[] = {
    {"id", "id", I, false},
    {"changeid", "id", I, false},
    {"author", "author", T, false},
    {"branch", "branch", T, false},
    {"revision", "revision", T, false},
    {"repository", "repository", T, false},
    {"project", "project", T, false},
    {"category", "category", T, false},
    {"source", "source", T, false},
    {"comments", "comments", T, false},
    {"when", "when_at", I, false},
    {"when_timestamp", "when_at", I, false},
};

struct TableInfo {
  const char* name;
  const Column* begin;
  const Column* end;
};

TableInfo tableInfo(ListTable t) {
  switch (t) {
    case ListTable::Builds: return {"builds", std::begin(kBuilds), std::end(kBuilds)};
    case ListTable::BuildRequests: return {"buildrequests", std::begin(kRequests), std::end(kRequests)};
    case ListTable::Buildsets: return {"buildsets", std::begin(kBuildsets), std::end(kBuildsets)};
    case ListTable::Changes: return {"changes", std::begin(kChanges), std::end(kChanges)};
  }
  throw std::invalid_argument("unknown list table");
}

const Column* findColumn(const TableInfo& t, std::string_view field) {
  const auto it = std::find_if(t.begin, t.end, [&](const Column& c) { return field == c.field; });
  return it == t.end ? nullptr : it;
}

const Column& requireColumn(const TableInfo& t, std::string_view field) {
  const Column* c = findColumn(t, field);
  if (!c) throw std::invalid_argument(std::string(t.name) + " has no list field '" + std::string(field) + "'");
  return *c;
}

const char* opSql(ListOp op) {
  switch (op) {
    case ListOp::Lt: return " < ";
    case ListOp::Le: return " <= ";
    case ListOp::Gt: return " > ";
    case ListOp::Ge: return " >= ";
    default: return " = ";
  }
}

// The WHERE clause of `q` with ?1.. placeholders; `values` gets what to
// bind to them, in order.
std::string whereSql(const TableInfo& t, const ListQuery& q, std::vector<const ListValue*>& values) {
  std::string sql;
  auto placeholder = [&](const ListValue& v) {
    values.push_back(&v);
    return "?" + std::to_string(values.size());
  };
  for (const auto& cond : q.where) {
    const Column& c = requireColumn(t, cond.field);
    if (cond.values.empty()) throw std::invalid_argument("list condition on '" + cond.field + "' has no value");
    if (c.nullable && cond.op != ListOp::Eq && cond.op != ListOp::Ne)
      throw std::invalid_argument("'" + cond.field + "' can be null: only = and != are done in SQL");
    std::string clause;
    if (cond.op == ListOp::Eq || cond.op == ListOp::Ne) {
      std::string list;
      for (const auto& v : cond.values) list += (list.empty() ? "" : ", ") + placeholder(v);
      const std::string expr = std::string("(") + c.sql + ")";
      // A null is never equal to a value and differs from every one (as
      // the in-memory filter has it).
      clause = cond.op == ListOp::Eq ? expr + " IN (" + list + ")"
                                     : "(" + expr + " IS NULL OR " + expr + " NOT IN (" + list + "))";
    } else {
      for (const auto& v : cond.values)
        clause += std::string(clause.empty() ? "" : " AND ") + "(" + c.sql + ")" + opSql(cond.op) + placeholder(v);
    }
    sql += (sql.empty() ? " WHERE " : " AND ") + clause;
  }
  return sql;
}

void bindAll(Statement& s, const std::vector<const ListValue*>& values) {
  int i = 0;
  for (const ListValue* v : values) {
    ++i;
    if (const auto* n = std::get_if<std::int64_t>(v)) s.bind(i, *n);
    else s.bind(i, std::get<std::string>(*v));
  }
}

}  // namespace

std::optional<ListFieldInfo> listField(ListTable table, std::string_view field) {
  const Column* c = findColumn(tableInfo(table), field);
  if (!c) return std::nullopt;
  return ListFieldInfo{c->kind, c->nullable};
}

ListPage Database::listIds(ListTable table, const ListQuery& q) {
  const TableInfo t = tableInfo(table);
  std::vector<const ListValue*> values;
  const std::string where = whereSql(t, q, values);

  // Nulls sort as the smallest value on every engine (SQLite's default;
  // PostgreSQL's is the opposite, so it is spelled out).
  std::string order;
  for (const auto& [field, desc] : q.order)
    order += std::string(order.empty() ? " ORDER BY " : ", ") + "(" + requireColumn(t, field).sql + ")" +
             (desc ? " DESC NULLS LAST" : " ASC NULLS FIRST");
  order += order.empty() ? " ORDER BY id DESC" : ", id DESC";

  std::string page;
  const bool paged = q.limit || q.offset > 0;
  if (paged) {
    const std::int64_t limit = q.limit.value_or(std::numeric_limits<std::int64_t>::max());
    page = " LIMIT " + std::to_string(limit) + " OFFSET " + std::to_string(q.offset);
  }

  ListPage out;
  {
    Statement s = oneOffStmt(std::string("SELECT id FROM ") + t.name + where + order + page);
    bindAll(s, values);
    while (s.step()) out.ids.push_back(s.getInt(0));
  }
  const auto n = static_cast<std::int64_t>(out.ids.size());
  if (!paged) {
    out.total = n;
  } else if (n > 0 && (!q.limit || n < *q.limit)) {
    // A short page that is not empty is the last one: nothing to count.
    out.total = q.offset + n;
  } else {
    Statement s = oneOffStmt(std::string("SELECT count(*) FROM ") + t.name + where);
    bindAll(s, values);
    s.requireRow();
    out.total = s.getInt(0);
  }
  return out;
}

}  // namespace bb::db
