#pragma once
// Helpers shared by the REST route files.
#include <cstdint>
#include <set>
#include <string>

#include "master/web/http_message.hpp"
#include "master/web/resource_query.hpp"
#include "master/web/router.hpp"
#include "master/web/web_context.hpp"

namespace bb::web {

// How many of the newest rows a collection reads before filtering,
// ordering and paging in memory (docs/web.md, "Differences").
inline constexpr int kScanLimit = 5000;

// The path parameter `name` as a positive integer; HttpError 400 otherwise.
std::int64_t pathId(const PathParams& p, const std::string& name);
// The request's query (field/order/limit/offset/filters); 400 when bad.
ResourceQuery queryOf(const HttpRequest& req, const std::set<std::string>& reserved = {});
// {"name": [...matching page...], "meta": {"total": N}}.
HttpResponse listResponse(const HttpRequest& req, const std::string& name, Json items);
// The same shape for one entity (Buildbot answers single entities as a
// one-element list).
HttpResponse oneResponse(const HttpRequest& req, const std::string& name, Json item);

}  // namespace bb::web
