#pragma once
// A list read that the database filters, orders and pages itself (the REST
// API's collections): conditions on named fields of one table, an order,
// and a page. Only the fields listField() knows can be used; the REST layer
// keeps every other filter and does it in memory (docs/web.md, "Lists").
// The field names are the REST API's (Buildbot's data API v2 plus ours),
// so the web layer passes them through unchanged.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace bb::db {

enum class ListTable { Builds, BuildRequests, Buildsets, Changes };

enum class ListFieldKind { Int, Bool, Text };

struct ListFieldInfo {
  ListFieldKind kind = ListFieldKind::Int;
  // Null in the REST shape while the row has no value (e.g. `results`
  // before a build finishes): only Eq and Ne are done by the database,
  // with a null matching every Ne as the in-memory filter does.
  bool nullable = false;
};

// What the database knows about `field` of `table`; nullopt when it is not
// a field the database can filter or order by.
std::optional<ListFieldInfo> listField(ListTable table, std::string_view field);

enum class ListOp { Eq, Ne, Lt, Le, Gt, Ge };

// Bool fields take 0/1 as an int.
using ListValue = std::variant<std::int64_t, std::string>;

struct ListCondition {
  std::string field;
  ListOp op = ListOp::Eq;
  // Eq: any of them; Ne: none of them; the comparisons: all of them.
  std::vector<ListValue> values;
};

struct ListQuery {
  std::vector<ListCondition> where;                 // every one must hold
  std::vector<std::pair<std::string, bool>> order;  // (field, descending); newest first breaks ties
  std::optional<std::int64_t> limit;                // nullopt: every match
  std::int64_t offset = 0;
};

struct ListPage {
  std::vector<std::int64_t> ids;  // the page, in order
  std::int64_t total = 0;         // every match, before limit/offset
};

}  // namespace bb::db
