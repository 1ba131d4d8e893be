#pragma once
// Buildbot data API v2 query parameters over a JSON list of objects:
//   field=a&field=b (or field=a,b)   keep only these keys
//   order=name&order=-number         sort; '-' for descending
//   limit=N, offset=N                one page (meta.total counts all matches)
//   NAME=v (several: any of them), NAME__eq/__ne/__lt/__le/__gt/__ge/__contains
// Values are compared as the field's JSON type (numbers as numbers,
// booleans from true/false/1/0/yes/no/on/off). Unknown fields and operators
// are errors, not empty answers: a typo must not look like "nothing matches".
//
// This works on the list the resource read (in memory); docs/web.md says
// which filters the resources push down to SQL and what could be.
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/message.hpp"  // Json

namespace bb::web {

// A query parameter that cannot be applied (400 with this message).
struct QueryError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct QueryFilter {
  enum class Op { Eq, Ne, Lt, Le, Gt, Ge, Contains };
  std::string field;
  Op op = Op::Eq;
  std::vector<std::string> values;
};

struct ResourceQuery {
  std::vector<std::string> fields;                    // empty: every field
  std::vector<std::pair<std::string, bool>> order;    // (field, descending)
  std::optional<std::int64_t> limit;
  std::int64_t offset = 0;
  std::vector<QueryFilter> filters;

  // From the request's parameters; names in `reserved` are the resource's
  // own (not filters). Throws QueryError.
  static ResourceQuery parse(const std::multimap<std::string, std::string>& params,
                             const std::set<std::string>& reserved = {});

  // The first value of an equality filter on `field` (for pushing it down
  // to the database), nullopt when there is none or it has several values.
  std::optional<std::string> equalTo(const std::string& field) const;

  struct Page {
    Json items = Json::array();
    std::int64_t total = 0;  // matches before limit/offset
  };
  // Filters, orders, pages and trims `items` (an array of objects).
  // Throws QueryError for a field no item has (when there are items).
  Page apply(Json items) const;
};

// A Buildbot-shaped list: {"<name>": [...], "meta": {"total": N}}.
Json listReply(const std::string& name, const ResourceQuery::Page& page);

}  // namespace bb::web
