#include "master/changes/forge_payloads.hpp"

#include <chrono>
#include <stdexcept>

#include "common/cron.hpp"  // parseIsoTime

namespace bb {

namespace {

// The member `key` of `j` as a string; throws naming `where.key`.
std::string payloadStr(const Json& j, const char* key, const std::string& where) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string())
    throw std::invalid_argument(where + "." + key + " is missing or not a string");
  return it->get<std::string>();
}
std::string strOr(const Json& j, const char* key, std::string fallback = "") {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : fallback;
}
const Json& obj(const Json& j, const char* key, const std::string& where) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_object()) throw std::invalid_argument(where + "." + key + " is missing or not an object");
  return *it;
}
std::int64_t payloadInt(const Json& j, const char* key, const std::string& where) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer())
    throw std::invalid_argument(where + "." + key + " is missing or not an integer");
  return it->get<std::int64_t>();
}

// "refs/heads/main" -> "main"; other refs stay whole.
// Unix seconds of a forge's ISO 8601 time; 0 when it is not one.
std::int64_t unixTime(const std::string& text) {
  auto t = parseIsoTime(text);
  return t ? std::chrono::duration_cast<std::chrono::seconds>(t->time_since_epoch()).count() : 0;
}

std::string branchOf(const std::string& ref) {
  static const std::string heads = "refs/heads/";
  return ref.rfind(heads, 0) == 0 ? ref.substr(heads.size()) : ref;
}

bool zeroRevision(const std::string& rev) {
  return !rev.empty() && rev.find_first_not_of('0') == std::string::npos;
}

std::vector<std::string> files(const Json& commit) {
  std::vector<std::string> out;
  for (const char* k : {"added", "modified", "removed"}) {
    auto it = commit.find(k);
    if (it == commit.end() || !it->is_array()) continue;
    for (const auto& f : *it)
      if (f.is_string()) out.push_back(f.get<std::string>());
  }
  return out;
}

std::string person(const Json& who) {
  if (!who.is_object()) return "";
  const std::string name = strOr(who, "name", strOr(who, "username"));
  const std::string email = strOr(who, "email");
  if (email.empty()) return name;
  return name.empty() ? email : name + " <" + email + ">";
}

// The commits of a push (GitHub, Gitea and GitLab write them alike).
ForgeEvent readPush(const Json& p, const std::string& repository, bool skipNonDistinct) {
  ForgeEvent ev;
  const std::string ref = payloadStr(p, "ref", "payload");
  if (p.value("deleted", false) || zeroRevision(strOr(p, "after"))) {
    ev.ignored = "the push deletes " + ref;
    return ev;
  }
  auto commits = p.find("commits");
  if (commits == p.end() || !commits->is_array() || commits->empty()) {
    ev.ignored = "the push to " + ref + " has no new commits";
    return ev;
  }
  const std::string branch = branchOf(ref);
  for (std::size_t i = 0; i < commits->size(); ++i) {
    const Json& c = (*commits)[i];
    const std::string where = "payload.commits[" + std::to_string(i) + "]";
    if (!c.is_object()) throw std::invalid_argument(where + " is not an object");
    if (skipNonDistinct && !c.value("distinct", true)) continue;  // already on another branch
    db::ChangeRecord ch;
    ch.revision = payloadStr(c, "id", where);
    ch.comments = strOr(c, "message");
    while (!ch.comments.empty() && (ch.comments.back() == '\n' || ch.comments.back() == ' '))
      ch.comments.pop_back();
    ch.author = person(c.value("author", Json()));
    if (ch.author.empty()) throw std::invalid_argument(where + ".author has neither name nor email");
    ch.when = unixTime(strOr(c, "timestamp"));
    ch.files = files(c);
    ch.branch = branch;
    ch.repository = repository;
    ch.properties["event"] = "push";
    if (auto url = strOr(c, "url"); !url.empty()) ch.properties["revlink"] = url;
    ev.changes.push_back(std::move(ch));
  }
  if (ev.changes.empty()) ev.ignored = "every commit of the push to " + ref + " is already on another branch";
  return ev;
}

// GitHub's and Gitea's pull_request (the same shape for what is read).
ForgeEvent readPullRequest(const Json& p, const std::vector<std::string>& building) {
  ForgeEvent ev;
  const std::string action = payloadStr(p, "action", "payload");
  const Json& pr = obj(p, "pull_request", "payload");
  const std::int64_t number = p.contains("number") ? payloadInt(p, "number", "payload") : payloadInt(pr, "number", "payload.pull_request");
  bool builds = false;
  for (const auto& a : building) builds = builds || a == action;
  if (!builds) {
    ev.ignored = "pull request #" + std::to_string(number) + " action '" + action + "' builds nothing";
    return ev;
  }
  const Json& head = obj(pr, "head", "payload.pull_request");
  const Json& base = obj(pr, "base", "payload.pull_request");
  const Json& repo = obj(base, "repo", "payload.pull_request.base");
  db::ChangeRecord ch;
  ch.revision = payloadStr(head, "sha", "payload.pull_request.head");
  ch.branch = "refs/pull/" + std::to_string(number) + "/head";
  ch.repository = payloadStr(repo, "clone_url", "payload.pull_request.base.repo");
  ch.author = strOr(pr.value("user", Json::object()), "login");
  if (ch.author.empty()) ch.author = strOr(p.value("sender", Json::object()), "login", "unknown");
  ch.comments = "PR #" + std::to_string(number) + ": " + strOr(pr, "title");
  ch.properties = Json{{"event", "pull_request"},
                       {"pr_number", number},
                       {"pr_action", action},
                       {"pr_base_branch", strOr(base, "ref")},
                       {"pr_head_branch", strOr(head, "ref")},
                       {"pr_url", strOr(pr, "html_url")}};
  ev.changes.push_back(std::move(ch));
  return ev;
}

ForgeEvent readGitHub(const std::string& event, const Json& p) {
  if (event == "ping") {
    ForgeEvent ev;
    ev.ping = true;
    ev.ignored = "ping";
    return ev;
  }
  if (event == "push") {
    const Json& repo = obj(p, "repository", "payload");
    return readPush(p, payloadStr(repo, "clone_url", "payload.repository"), true);
  }
  if (event == "pull_request") return readPullRequest(p, {"opened", "reopened", "synchronize"});
  ForgeEvent ev;
  ev.ignored = "event '" + event + "' is not one that builds (push, pull_request, ping)";
  return ev;
}

ForgeEvent readGitea(const std::string& event, const Json& p) {
  if (event == "push") {
    const Json& repo = obj(p, "repository", "payload");
    return readPush(p, payloadStr(repo, "clone_url", "payload.repository"), false);
  }
  if (event == "pull_request") return readPullRequest(p, {"opened", "reopened", "synchronized"});
  ForgeEvent ev;
  ev.ignored = "event '" + event + "' is not one that builds (push, pull_request)";
  return ev;
}

ForgeEvent readGitLab(const std::string& event, const Json& p) {
  const std::string kind = strOr(p, "object_kind");
  if (event == "Push Hook" || (event.empty() && kind == "push")) {
    const Json& project = obj(p, "project", "payload");
    return readPush(p, payloadStr(project, "git_http_url", "payload.project"), false);
  }
  if (event == "Merge Request Hook" || (event.empty() && kind == "merge_request")) {
    ForgeEvent ev;
    const Json& mr = obj(p, "object_attributes", "payload");
    const std::int64_t iid = payloadInt(mr, "iid", "payload.object_attributes");
    const std::string action = strOr(mr, "action");
    // "update" is also sent for a new title; only new commits (oldrev) build.
    const bool builds = action == "open" || action == "reopen" || (action == "update" && mr.contains("oldrev"));
    if (!builds) {
      ev.ignored = "merge request !" + std::to_string(iid) + " action '" + action + "' builds nothing";
      return ev;
    }
    const Json& last = obj(mr, "last_commit", "payload.object_attributes");
    const Json& target = obj(mr, "target", "payload.object_attributes");
    db::ChangeRecord ch;
    ch.revision = payloadStr(last, "id", "payload.object_attributes.last_commit");
    ch.branch = "refs/merge-requests/" + std::to_string(iid) + "/head";
    ch.repository = payloadStr(target, "git_http_url", "payload.object_attributes.target");
    ch.author = person(last.value("author", Json()));
    if (ch.author.empty()) ch.author = strOr(p.value("user", Json::object()), "username", "unknown");
    ch.comments = "MR !" + std::to_string(iid) + ": " + strOr(mr, "title");
    ch.when = unixTime(strOr(last, "timestamp"));
    ch.properties = Json{{"event", "merge_request"},
                         {"pr_number", iid},
                         {"pr_action", action},
                         {"pr_base_branch", strOr(mr, "target_branch")},
                         {"pr_head_branch", strOr(mr, "source_branch")},
                         {"pr_url", strOr(mr, "url")}};
    ev.changes.push_back(std::move(ch));
    return ev;
  }
  ForgeEvent ev;
  ev.ignored = "event '" + event + "' is not one that builds (Push Hook, Merge Request Hook)";
  return ev;
}

}  // namespace

ForgeEvent readForgeEvent(Forge forge, const std::string& event, const Json& payload) {
  if (!payload.is_object()) throw std::invalid_argument("the payload is not a JSON object");
  ForgeEvent ev = forge == Forge::GitHub   ? readGitHub(event, payload)
                  : forge == Forge::GitLab ? readGitLab(event, payload)
                                           : readGitea(event, payload);
  // The project: the repository's "owner/name" as the forge writes it.
  const std::string project = forge == Forge::GitLab
                                  ? strOr(payload.value("project", Json::object()), "path_with_namespace")
                                  : strOr(payload.value("repository", Json::object()), "full_name");
  for (auto& c : ev.changes) c.project = project;
  return ev;
}

}  // namespace bb
