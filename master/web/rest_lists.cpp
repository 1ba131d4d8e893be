// The REST collections read from the database (builds, build requests,
// BuildSets, changes): what the database can filter and order by is done
// in SQL, and then `limit`/`offset` and `meta.total` too, so a collection
// is right however many rows it has. Filters the database cannot do
// (`__contains`, text shapes such as `state_string`, properties) are done
// here over every row the SQL part matched, one batch of rows at a time so
// only the matches are held.
#include <charconv>

#include "master/db/database.hpp"
#include "master/web/rest_common.hpp"

namespace bb::web {

namespace {

constexpr std::size_t kBatch = 500;

db::ListOp listOp(QueryFilter::Op op) {
  switch (op) {
    case QueryFilter::Op::Ne: return db::ListOp::Ne;
    case QueryFilter::Op::Lt: return db::ListOp::Lt;
    case QueryFilter::Op::Le: return db::ListOp::Le;
    case QueryFilter::Op::Gt: return db::ListOp::Gt;
    case QueryFilter::Op::Ge: return db::ListOp::Ge;
    default: return db::ListOp::Eq;
  }
}

// `text` as a value of a field of `kind`, with the messages the in-memory
// filter gives (resource_query.cpp).
db::ListValue listValue(const std::string& field, db::ListFieldKind kind, const std::string& text) {
  if (kind == db::ListFieldKind::Text) return text;
  if (kind == db::ListFieldKind::Bool) {
    if (text == "true" || text == "1" || text == "yes" || text == "on") return std::int64_t{1};
    if (text == "false" || text == "0" || text == "no" || text == "off") return std::int64_t{0};
    throw HttpError(400, field + " is true or false, got '" + text + "'");
  }
  std::int64_t n = 0;
  const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || p != text.data() + text.size())
    throw HttpError(400, field + " is a whole number, got '" + text + "'");
  return n;
}

// Whether the database does `f` on `table`: a known field, not
// __contains, and on a field that can be null only = and !=.
std::optional<db::ListFieldInfo> pushable(db::ListTable table, const QueryFilter& f) {
  if (f.op == QueryFilter::Op::Contains) return std::nullopt;
  auto info = db::listField(table, f.field);
  if (!info) return std::nullopt;
  if (info->nullable && f.op != QueryFilter::Op::Eq && f.op != QueryFilter::Op::Ne) return std::nullopt;
  // A null value of a nullable field reads as "null" in memory; leave it there.
  if (info->nullable)
    for (const auto& v : f.values)
      if (v == "null") return std::nullopt;
  return info;
}

ResourceQuery::Page applied(const ResourceQuery& q, Json items) {
  try {
    return q.apply(std::move(items));
  } catch (const QueryError& e) {
    throw HttpError(400, e.what());
  }
}

}  // namespace

HttpResponse dbListResponse(const HttpRequest& req, db::Database& db, const std::string& name,
                            db::ListTable table, const std::function<std::optional<Json>(std::int64_t)>& fetch,
                            std::vector<db::ListCondition> fixed) {
  const ResourceQuery q = queryOf(req);
  db::ListQuery dq;
  dq.where = std::move(fixed);
  ResourceQuery inMemory;  // the filters the database does not do
  for (const auto& f : q.filters) {
    if (const auto info = pushable(table, f)) {
      db::ListCondition c{f.field, listOp(f.op), {}};
      for (const auto& v : f.values) c.values.push_back(listValue(f.field, info->kind, v));
      dq.where.push_back(std::move(c));
    } else {
      inMemory.filters.push_back(f);
    }
  }
  const bool orderInDb = std::all_of(q.order.begin(), q.order.end(),
                                     [&](const auto& o) { return db::listField(table, o.first).has_value(); });

  auto fetchAll = [&](const std::vector<std::int64_t>& ids, std::size_t from, std::size_t to) {
    Json items = Json::array();
    for (std::size_t i = from; i < to; ++i)
      if (auto item = fetch(ids[i])) items.push_back(std::move(*item));
    return items;
  };

  if (inMemory.filters.empty() && orderInDb) {
    // All in SQL: read only the page.
    dq.order = q.order;
    dq.limit = q.limit;
    dq.offset = q.offset;
    const db::ListPage page = db.listIds(table, dq);
    ResourceQuery shape;  // checks field= and order= names, trims fields
    shape.fields = q.fields;
    shape.order = q.order;
    ResourceQuery::Page out = applied(shape, fetchAll(page.ids, 0, page.ids.size()));
    out.total = page.total;
    return jsonResponse(listReply(name, out));
  }

  // Filter the rest here, batch by batch, in the database's order when it
  // can give it (then the order below keeps it).
  if (orderInDb) dq.order = q.order;
  const db::ListPage all = db.listIds(table, dq);
  Json kept = Json::array();
  for (std::size_t i = 0; i < all.ids.size(); i += kBatch) {
    auto page = applied(inMemory, fetchAll(all.ids, i, std::min(all.ids.size(), i + kBatch)));
    for (auto& item : page.items) kept.push_back(std::move(item));
  }
  ResourceQuery rest = q;
  rest.filters.clear();
  if (orderInDb) rest.order.clear();
  return jsonResponse(listReply(name, applied(rest, std::move(kept))));
}

}  // namespace bb::web
