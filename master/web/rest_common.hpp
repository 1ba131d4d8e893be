#pragma once
// Helpers shared by the REST route files.
#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>

#include "master/db/list_query.hpp"
#include "master/web/http_message.hpp"
#include "master/web/resource_query.hpp"
#include "master/web/router.hpp"
#include "master/web/web_context.hpp"

namespace bb::web {

// The path parameter `name` as a positive integer; HttpError 400 otherwise.
std::int64_t pathId(const PathParams& p, const std::string& name);
// The request's query (field/order/limit/offset/filters); 400 when bad.
ResourceQuery queryOf(const HttpRequest& req, const std::set<std::string>& reserved = {});
// {"name": [...matching page...], "meta": {"total": N}}.
HttpResponse listResponse(const HttpRequest& req, const std::string& name, Json items);
// The same shape for one entity (Buildbot answers single entities as a
// one-element list).
HttpResponse oneResponse(const HttpRequest& req, const std::string& name, Json item);

// A collection of the database (rest_lists.cpp): the filters and order the
// database can do are done in SQL, with `limit`/`offset`, so `meta.total`
// counts every match; the rest are done in memory over the rows the SQL
// part matched. `fetch` gives the REST shape of the row with that id
// (nullopt: gone meanwhile); `fixed` are conditions of the path (a
// builder's builds).
HttpResponse dbListResponse(const HttpRequest& req, db::Database& db, const std::string& name,
                            db::ListTable table, const std::function<std::optional<Json>(std::int64_t)>& fetch,
                            std::vector<db::ListCondition> fixed = {});

}  // namespace bb::web
