// POST /change_hook/base: Buildbot's `base` dialect, a change source like
// `buildbot sendchange` (the same RpcHandler method, so the same checks
// and the same ChangeBus path). The fields come urlencoded (files and
// properties as JSON text) or as one JSON object. It needs a login with
// `sendchange` in its `may` list, as `buildbot sendchange` does.
// POST /change_hook/NAME: the forge webhook change source of that name
// (master/changes/webhook_source.hpp), which checks the forge's own
// signature instead of a login.
#include <spdlog/spdlog.h>

#include "master/changes/webhook_source.hpp"
#include "master/status/rpc_handler.hpp"
#include "master/web/control_request.hpp"
#include "master/web/rest_common.hpp"
#include "master/web/web_auth.hpp"

namespace bb::web {

namespace {

Json parseJsonField(const std::string& name, const std::string& text) {
  try {
    return Json::parse(text);
  } catch (const Json::parse_error& e) {
    throw HttpError(400, name + " must be JSON (" + std::string(e.what()) + ")");
  }
}

// The base dialect's fields as sendchange params.
Json fromFields(const std::multimap<std::string, std::string>& form) {
  Json p = Json::object();
  for (const auto& [k, v] : form) {
    if (k == "files") p["files"] = parseJsonField("files", v);
    else if (k == "properties") p["properties"] = parseJsonField("properties", v);
    else if (k == "when_timestamp" || k == "when") {
      try {
        std::size_t used = 0;
        const long long n = std::stoll(v, &used);
        if (used != v.size()) throw std::invalid_argument(v);
        p["when"] = n;
      } catch (const std::exception&) {
        throw HttpError(400, k + " must be a unix time in seconds, got '" + v + "'");
      }
    } else if (k == "who") p["author"] = v;
    else if (k == "author" || k == "branch" || k == "revision" || k == "comments" || k == "project" ||
             k == "repository" || k == "category")
      p[k] = v;
    else if (k == "revlink" || k == "codebase") continue;  // accepted, not stored
    else throw HttpError(400, "unknown field '" + k + "' (base dialect: branch, revision, author, comments, "
                              "project, repository, files, properties, category, when_timestamp)");
  }
  return p;
}

Json fromJson(const std::string& body) {
  Json j = parseJsonField("the body", body);
  if (!j.is_object()) throw HttpError(400, "the body must be a JSON object of the base dialect's fields");
  std::multimap<std::string, std::string> form;
  Json direct = Json::object();
  for (auto& [k, v] : j.items()) {
    if (v.is_null()) continue;
    if ((k == "files" && v.is_array()) || (k == "properties" && v.is_object()) ||
        ((k == "when_timestamp" || k == "when") && v.is_number_integer())) {
      direct[k == "when_timestamp" ? "when" : k] = v;
    } else if (v.is_string()) {
      form.emplace(k, v.get<std::string>());
    } else {
      throw HttpError(400, k + " has the wrong type");
    }
  }
  Json p = fromFields(form);
  p.update(direct);
  return p;
}

}  // namespace

void addChangeHook(Router& r, WebContext& ctx) {
  r.add("POST", "/change_hook/base", [&ctx](HttpRequest& req, const PathParams&) {
    if (!sameOrigin(req, ctx.config().master.url))
      throw HttpError(403, "change hooks are not accepted from a foreign Origin ('" + req.header("origin") + "')");
    const std::string user = ctx.auth.authenticate(req);
    ctx.auth.require(user, "sendchange");
    const std::string type = req.header("content-type");
    Json params;
    if (type.rfind("application/json", 0) == 0) params = fromJson(req.body);
    else if (type.rfind("application/x-www-form-urlencoded", 0) == 0 || type.empty())
      params = fromFields(parseQuery(req.body));
    else
      throw HttpError(415, "the change hook takes application/x-www-form-urlencoded or application/json, got '" +
                               type + "'");
    try {
      Json result = ctx.rpc.call(user, "sendchange", params);
      spdlog::info("web: change hook (base) by {} from {}: change {}", user, req.remote,
                   result.value("change_id", std::int64_t{0}));
      Json out{{"change_ids", Json::array({result["change_id"]})}};
      if (result.contains("notes")) out["notes"] = result["notes"];
      return jsonResponse(out);
    } catch (const RpcError& e) {
      throw toHttpError(e);
    }
  });
  r.add("POST", "/change_hook/{name}", [&ctx](HttpRequest& req, const PathParams& path) {
    WebhookSource* hook = ctx.webhook ? ctx.webhook(path.at("name")) : nullptr;
    if (!hook)
      throw HttpError(404, "no change source named '" + path.at("name") +
                               "' takes webhooks here (change_sources: with type github_webhook, "
                               "gitlab_webhook or gitea_webhook and that name)");
    if (!sameOrigin(req, ctx.config().master.url))
      throw HttpError(403, "webhooks are not accepted from a foreign Origin ('" + req.header("origin") + "')");
    WebhookRequest in{req.headers, req.body, std::nullopt, req.remote};
    if (req.header("content-type").rfind("application/x-www-form-urlencoded", 0) == 0) {
      const auto form = parseQuery(req.body);  // throws HttpError 400 on bad escapes
      if (auto it = form.find("payload"); it != form.end()) in.formPayload = it->second;
    }
    WebhookAnswer a = hook->receive(in);
    return jsonResponse(a.body, a.status);
  });
}

}  // namespace bb::web
