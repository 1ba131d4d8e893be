#include "master/status/rpc_handler.hpp"

#include <algorithm>
#include <chrono>
#include <map>

#include "common/interpolate.hpp"
#include "master/buildsets/buildset_service.hpp"
#include "master/changes/change_bus.hpp"
#include "master/changes/change_source.hpp"
#include "master/db/database.hpp"
#include "master/events/event_bus.hpp"
#include "master/process/build.hpp"
#include "master/process/pending_writes.hpp"
#include "master/schedulers/force.hpp"
#include "master/schedulers/scheduler_set.hpp"
#include "master/status/views.hpp"

namespace bb {

namespace {

// Room left in a frame for the rest of a `log` reply besides its data (the
// Response map, its keys and integers take under 200 bytes), so that even
// the smallest max_frame (1024) leaves room for a page.
constexpr std::int64_t kLogReplyOverhead = 256;

std::string str(const Json& p, const char* key) {
  auto it = p.find(key);
  if (it == p.end() || it->is_null()) return "";
  if (!it->is_string()) throw RpcError("bad_request", std::string(key) + " must be a string");
  return it->get<std::string>();
}

// The master's clock, so a client computes elapsed times without its own.
std::int64_t unixNowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::int64_t integer(const Json& p, const char* key, std::int64_t dflt) {
  auto it = p.find(key);
  if (it == p.end() || it->is_null()) return dflt;
  if (!it->is_number_integer()) throw RpcError("bad_request", std::string(key) + " must be an integer");
  return it->get<std::int64_t>();
}

// A required integer parameter: missing or mistyped is bad_request.
std::int64_t requiredInt(const Json& p, const char* key, const char* what) {
  auto it = p.find(key);
  if (it == p.end() || it->is_null())
    throw RpcError("bad_request", std::string(key) + " is required (" + what + ")");
  return integer(p, key, 0);
}

// Every method, with the `may` entry it needs (subscribe and unsubscribe
// are served by ClientSession, the rest by RpcHandler::call).
const std::map<std::string, std::string>& methodPermissions() {
  static const std::map<std::string, std::string> m = {
      {"sendchange", "sendchange"}, {"force", "force"},          {"cancel", "force"},
      {"priority", "force"},        {"stop_build", "force"},     {"rebuild", "force"},
      {"stop_slave", "stop_slave"},
      {"status", "status"},
      {"build", "status"},          {"log", "status"},           {"buildset", "status"},
      {"change_status", "status"},  {"stats", "status"},         {"subscribe", "status"},     {"unsubscribe", "status"},
      {"try_job", "status"},        {"try_builders", "try"},     {"try_start", "try"},
      {"try_upload", "try"},        {"try_finish", "try"}};
  return m;
}

}  // namespace

void RpcHandler::authorize(const std::string& user, const std::string& method) const {
  const UserEntry* u = config_().findUser(user);
  if (!u) throw RpcError("not_permitted", "user '" + user + "' is no longer configured");
  // An unknown method is a bad request, not a permission problem.
  const auto known = methodPermissions().find(method);
  if (known == methodPermissions().end()) {
    std::string list;
    for (const auto& [name, may] : methodPermissions()) list += (list.empty() ? "" : ", ") + name;
    throw RpcError("bad_request", "unknown method '" + method + "'", {"methods: " + list});
  }
  const std::string& needs = known->second;
  if (!u->mayDo(needs))
    throw RpcError("not_permitted", "user '" + user + "' may not use " + method +
                                        " (add '" + needs + "' to its `may` list)");
}

Json RpcHandler::call(const std::string& user, const std::string& method, const Json& params) {
  authorize(user, method);
  return callChecked(user, method, params);
}

Json RpcHandler::callChecked(const std::string& user, const std::string& method, const Json& params) {
  if (methodPermissions().find(method) == methodPermissions().end())
    throw RpcError("bad_request", "unknown method '" + method + "'");
  if (!params.is_object()) throw RpcError("bad_request", "params must be a map");
  try {
    return dispatch(user, method, params);
  } catch (const std::exception& e) {
    // The caller gets the database's words ("... is out of space (its disk
    // is full ...)"); the master's storage condition notes it.
    if (storage_ && PendingWrites::isDiskFull(e)) storage_->noteFull(e.what());
    throw;
  }
}

Json RpcHandler::read(const std::string& method, const Json& params) {
  const auto known = methodPermissions().find(method);
  if (known == methodPermissions().end() || known->second != "status" || method == "subscribe" ||
      method == "unsubscribe")
    throw RpcError("bad_request", "'" + method + "' is not a read method");
  if (!params.is_object()) throw RpcError("bad_request", "params must be a map");
  return dispatch("", method, params);
}

Json RpcHandler::dispatch(const std::string& user, const std::string& method, const Json& params) {
  if (method == "sendchange") return sendchange(params);
  if (method == "force") return force(user, params);
  if (method == "status") return status(params);
  if (method == "build") return build(params);
  if (method == "log") return log(params);
  if (method == "buildset") return buildset(params);
  if (method == "change_status") return changeStatus(params);
  if (method == "stats") return stats(params);
  if (method == "cancel") return cancel(user, params);
  if (method == "priority") return priority(user, params);
  if (method == "stop_build") return stopBuild(user, params);
  if (method == "try_job") return tryJob(params);
  if (method == "try_builders") return tryBuilders(params);
  if (method == "try_start") return tryStart(user, params);
  if (method == "try_upload") return tryUpload(user, params);
  if (method == "try_finish") return tryFinish(user, params);
  if (method == "rebuild") return rebuild(user, params);
  if (method == "stop_slave") return stopSlave(user, params);
  throw RpcError("bad_request", "method '" + method + "' is not served here");
}

Json RpcHandler::sendchange(const Json& p) {
  db::ChangeRecord c;
  c.author = str(p, "author");
  c.repository = str(p, "repository");
  c.branch = str(p, "branch");
  c.revision = str(p, "revision");
  c.comments = str(p, "comments");
  c.category = str(p, "category");
  c.project = str(p, "project");
  c.source = "sendchange";
  c.when = integer(p, "when", std::chrono::duration_cast<std::chrono::seconds>(
                                  std::chrono::system_clock::now().time_since_epoch())
                                  .count());
  std::vector<std::string> errors;
  if (c.author.empty()) errors.push_back("author (--who) is required");
  if (auto it = p.find("files"); it != p.end() && !it->is_null()) {
    if (!it->is_array()) errors.push_back("files must be a list of paths");
    else
      for (const auto& f : *it) {
        if (f.is_string()) c.files.push_back(f.get<std::string>());
        else errors.push_back("files must be a list of paths");
      }
  }
  Json notes = Json::array();
  if (auto it = p.find("properties"); it != p.end() && !it->is_null()) {
    if (!it->is_object()) errors.push_back("properties must be a map");
    else c.properties = *it;
    if (it->is_object())
      for (const auto& [name, value] : it->items()) {
        if (auto bad = checkPropertyName(name)) errors.push_back(*bad);
        else if (isSourceStampProperty(name))
          notes.push_back(sourceStampPropertyNote(name, "--" + name));
      }
  }
  if (!errors.empty()) throw RpcError("bad_request", "sendchange rejected", errors);
  const std::int64_t id = bus_.addChange(std::move(c));
  Json out{{"change_id", id}};
  if (!notes.empty()) out["notes"] = notes;
  return out;
}

Json RpcHandler::force(const std::string& user, const Json& p) {
  const std::string name = str(p, "scheduler");
  if (name.empty()) throw RpcError("bad_request", "scheduler is required (--scheduler NAME)");
  ForceScheduler* f = schedulers_.findForce(name);
  if (!f) {
    std::string list;
    for (auto* s : schedulers_.all())
      if (schedulers_.findForce(s->name())) list += (list.empty() ? "" : ", ") + s->name();
    const std::string known = "force schedulers: " + (list.empty() ? std::string("none") : list);
    if (Scheduler* other = schedulers_.find(name))
      throw RpcError("not_found", "scheduler '" + name + "' is a " + other->config().type +
                                      " scheduler, not a force scheduler",
                     {known});
    throw RpcError("not_found", "no force scheduler named '" + name + "'", {known});
  }
  std::vector<std::string> allBuilders;
  for (const auto& b : config_().builders) allBuilders.push_back(b.name);
  try {
    // Every event about the new BuildSet comes after this one, so a client
    // that subscribes with after_seq = event_seq misses none of them.
    const std::uint64_t seq = buildsets_.events().lastSeq();
    std::vector<std::string> notes;
    NewBuildset bs = f->force(p, user, allBuilders, &notes);
    Json reqs = Json::object();
    for (const auto& [b, id] : bs.requests) reqs[b] = id;
    Json out{{"buildset_id", bs.id}, {"requests", reqs}, {"event_seq", seq}};
    if (!notes.empty()) out["notes"] = notes;
    return out;
  } catch (const ForceError& e) {
    throw RpcError("rejected", e.what(), e.details);
  }
}

Json RpcHandler::status(const Json& p) {
  const std::string only = str(p, "builder");
  const int limit = static_cast<int>(integer(p, "limit", 5));
  if (limit < 1 || limit > 1000) throw RpcError("bad_request", "limit must be between 1 and 1000");
  Json builders = Json::array();
  const auto& cfg = config_();
  if (!only.empty() && !cfg.findBuilder(only))
    throw RpcError("not_found", "no builder named '" + only + "'");
  // Pending requests in the order the distributor takes them: the first
  // kPendingListed per builder, and how many there are (a queue of 100,000
  // must not make a reply bigger than a frame).
  constexpr std::size_t kPendingListed = 50;
  std::map<std::string, Json> pending;
  std::map<std::string, std::size_t> pendingCount;
  for (const auto& r : db_.pendingRequests()) {
    Json& list = pending[r.builder];
    if (list.is_null()) list = Json::array();
    if (++pendingCount[r.builder] > kPendingListed) continue;
    list.push_back(pendingRequestView(r));
  }
  for (const auto& b : cfg.builders) {
    if (!only.empty() && b.name != only) continue;
    Json builds = Json::array();
    for (const auto& r : db_.lastBuilds(b.name, limit)) {
      builds.push_back(buildView(db_, r));
      // Why the builder's newest build failed, if it did.
      if (builds.size() == 1) builds.back()["failure"] = buildFailureView(db_, r, 5);
    }
    auto p = pending.find(b.name);
    builders.push_back(Json{{"name", b.name},
                            {"builds", builds},
                            {"pending", p == pending.end() ? Json::array() : p->second},
                            {"pending_count", pendingCount[b.name]}});
  }
  Json slaves = Json::array();
  for (const auto& sl : cfg.slaves) {
    if (!only.empty()) {
      const auto* b = cfg.findBuilder(only);
      if (std::find(b->slaves.begin(), b->slaves.end(), sl.name) == b->slaves.end()) continue;
    }
    slaves.push_back(slaveView(sl, slaves_));
  }
  Json sources = Json::array();
  if (changeSources_ && only.empty())
    for (const ChangeSource* s : changeSources_()) sources.push_back(s->describe());
  // Each scheduler describes its own state (with --builder: the ones that
  // start that builder).
  Json schedulers = Json::array();
  for (const Scheduler* s : schedulers_.all()) {
    const auto& bs = s->config().builders;
    if (!only.empty() && std::find(bs.begin(), bs.end(), only) == bs.end()) continue;
    schedulers.push_back(schedulerView(*s));
  }
  return Json{{"builders", builders},
              {"slaves", slaves},
              {"change_sources", sources},
              {"schedulers", schedulers},
              {"reporters", only.empty() ? reporters() : Json::array()},
              {"storage", storage_ ? storage_->describe() : std::string("ok")},
              {"retention", only.empty() ? retention() : Json()},
              {"now", unixNowSeconds()}};
}

Json RpcHandler::build(const Json& p) {
  const std::string builder = str(p, "builder");
  if (builder.empty()) throw RpcError("bad_request", "builder is required (a builder name)");
  const auto number = requiredInt(p, "number", "a build number");
  auto b = db_.getBuildByNumber(builder, static_cast<int>(number));
  if (!b) throw RpcError("not_found", "builder '" + builder + "' has no build #" + std::to_string(number));
  Json out = buildDetailView(db_, *b);
  // A running build's step says what it is doing.
  if (runningBuilds_ && !b->finished)
    for (const auto& running : runningBuilds_())
      if (running->builderName() == builder && running->number() == b->number)
        out["current_step"] = running->currentStep();
  return Json{{"build", out}, {"now", unixNowSeconds()}};
}

Json RpcHandler::log(const Json& p) {
  // One page of a log's bytes, from `offset`: a reply never exceeds a
  // frame, and a reader pages through a log of any size with next_offset.
  const auto id = requiredInt(p, "log_id", "a log id from the build's steps");
  const auto offset = integer(p, "offset", 0);
  const std::int64_t cap = static_cast<std::int64_t>(config_().master.maxFrame) - kLogReplyOverhead;
  const auto maxBytes = integer(p, "max_bytes", std::min<std::int64_t>(256 * 1024, cap));
  if (maxBytes < 1 || maxBytes > cap)
    throw RpcError("bad_request", "max_bytes must be between 1 and " + std::to_string(cap) +
                                      " (a reply must fit in one frame; page with offset)");
  if (offset < 0) throw RpcError("bad_request", "offset must be 0 or more");
  const auto rec = db_.getLog(id);
  if (!rec) throw RpcError("not_found", "no log with id " + std::to_string(id));
  if (rec->removedAt)
    throw RpcError("gone", "the text of log " + std::to_string(id) + " was " +
                               retentionRemovalText(rec->removedAt, rec->removedBy));
  std::vector<std::uint8_t> data;
  if (offset < rec->bytes) {
    db_.readLogFrom(id, offset, [&](int, std::string_view chunk) {
      const std::size_t room = static_cast<std::size_t>(maxBytes) - data.size();
      const std::size_t take = std::min(room, chunk.size());
      data.insert(data.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(take));
      return data.size() < static_cast<std::size_t>(maxBytes);
    });
  }
  const std::int64_t next = offset + static_cast<std::int64_t>(data.size());
  return Json{{"log_id", id},
              {"offset", offset},
              {"data", Json::binary(std::move(data))},
              {"next_offset", next},
              {"size", rec->bytes},
              {"finished", rec->finished},
              {"more", next < rec->bytes}};
}

Json RpcHandler::buildset(const Json& p) {
  const auto id = requiredInt(p, "id", "a buildset id");
  auto bs = db_.getBuildset(id);
  if (!bs) throw RpcError("not_found", "no buildset with id " + std::to_string(id));
  return Json{{"buildset", buildsetView(db_, *bs)}};
}

Json RpcHandler::cancel(const std::string& user, const Json& p) {
  const auto id = integer(p, "request_id", -1);
  if (id < 1) throw RpcError("bad_request", "request_id is required (a build request id)");
  const db::CancelResult r = buildsets_.cancel(id, user);
  const std::string rid = "request " + std::to_string(id);
  switch (r.outcome) {
    case db::CancelOutcome::Cancelled:
      return Json{{"request_id", id}, {"result", toString(Result::Cancelled)}};
    case db::CancelOutcome::Claimed: {
      // Only a pending request can be cancelled; say how to stop its build.
      const auto builds = db_.buildsForRequest(id);
      const std::string how =
          builds.empty() ? "`buildbot stop-build BUILDER NUMBER` (see `buildbot status`)"
                         : "`buildbot stop-build " + builds.back().builder + " " +
                               std::to_string(builds.back().number) + "`";
      throw RpcError("rejected", rid + " has already started; stop its build with " + how);
    }
    case db::CancelOutcome::Complete: {
      const auto req = db_.getRequest(id);
      throw RpcError("rejected", rid + " is already complete (" +
                                     std::string(req ? toString(req->result) : "?") + ")");
    }
    case db::CancelOutcome::Unknown:
      break;
  }
  throw RpcError("not_found", "no build request with id " + std::to_string(id));
}

Json RpcHandler::priority(const std::string& user, const Json& p) {
  const auto id = integer(p, "request_id", -1);
  if (id < 1) throw RpcError("bad_request", "request_id is required (a build request id)");
  if (p.find("priority") == p.end()) throw RpcError("bad_request", "priority is required");
  const auto prio = integer(p, "priority", 0);
  if (prio < -1000000 || prio > 1000000)
    throw RpcError("bad_request", "priority must be between -1000000 and 1000000");
  const auto before = db_.getRequest(id);
  if (!before) throw RpcError("not_found", "no build request with id " + std::to_string(id));
  if (!buildsets_.setPriority(id, static_cast<int>(prio), user))
    throw RpcError("rejected", "request " + std::to_string(id) + " is already complete (" +
                                   std::string(toString(before->result)) + ")");
  return Json{{"request_id", id}, {"priority", prio}, {"previous", before->priority},
              {"claimed", before->claimed}};
}

Json RpcHandler::stopBuild(const std::string& user, const Json& p) {
  const std::string builder = str(p, "builder");
  const auto number = integer(p, "number", -1);
  if (builder.empty() || number < 1)
    throw RpcError("bad_request", "builder and number are required (the build to stop)");
  std::string reason = str(p, "reason");
  reason = "stopped by " + user + (reason.empty() ? "" : ": " + reason);
  if (runningBuilds_) {
    for (const auto& b : runningBuilds_()) {
      if (b->builderName() != builder || b->number() != number || b->finished()) continue;
      b->stop(Result::Cancelled, reason);
      return Json{{"builder", builder}, {"number", number}, {"stopping", true}};
    }
  }
  const auto rec = db_.getBuildByNumber(builder, static_cast<int>(number));
  if (!rec)
    throw RpcError("not_found", "builder '" + builder + "' has no build #" + std::to_string(number));
  throw RpcError("rejected", "build " + builder + " #" + std::to_string(number) +
                                 " is not running (" +
                                 (rec->finished ? std::string(toString(rec->result))
                                                : std::string("not started by this master")) +
                                 ")");
}

// What happened to one change, per scheduler: built (its BuildSets with
// requests and results), waiting (a timer, the next nightly run, or an
// upstream BuildSet not finished yet), or ignored (and why).
Json RpcHandler::changeStatus(const Json& p) {
  const auto id = requiredInt(p, "change_id", "a change id");
  auto change = db_.getChange(id);
  if (!change) throw RpcError("not_found", "no change with id " + std::to_string(id));
  std::map<std::string, db::ChangeDecision> decisions;
  for (auto& d : db_.decisionsForChange(id)) decisions[d.scheduler] = d;
  // BuildSets that contain the change, by the scheduler that made them.
  std::map<std::string, std::vector<db::BuildsetRecord>> built;
  for (auto bsid : db_.buildsetsForChange(id))
    if (auto bs = db_.getBuildset(bsid)) built[bs->scheduler].push_back(*bs);
  Json out = Json::array();
  for (const auto& cfg : config_().schedulers) {
    const Scheduler* s = schedulers_.find(cfg.name);
    if (!s) continue;  // a type this master does not run (checkconfig refuses it)
    Json entry{{"scheduler", cfg.name}, {"type", cfg.type}};
    if (auto b = built.find(cfg.name); b != built.end()) {
      entry["state"] = "built";
      Json sets = Json::array();
      for (const auto& bs : b->second) sets.push_back(buildsetView(db_, bs));
      entry["buildsets"] = std::move(sets);
    } else {
      auto d = decisions.find(cfg.name);
      entry.update(s->changeState(*change, d == decisions.end() ? nullptr : &d->second, built));
    }
    out.push_back(std::move(entry));
  }
  return Json{{"change", changeView(*change)}, {"schedulers", out}};
}

// A new BuildSet for the build's builder with the same source stamp and
// properties as the BuildSet the build came from.
Json RpcHandler::rebuild(const std::string& user, const Json& p) {
  const auto id = requiredInt(p, "build_id", "the build to run again");
  const auto b = db_.getBuild(id);
  if (!b) throw RpcError("not_found", "no build with id " + std::to_string(id));
  const auto req = b->requestId ? db_.getRequest(b->requestId) : std::nullopt;
  const auto bs = req ? db_.getBuildset(req->buildsetId) : std::nullopt;
  if (!bs)
    throw RpcError("rejected", "build " + b->builder + " #" + std::to_string(b->number) +
                                   " has no BuildSet to repeat (its request is gone)");
  if (!config_().findBuilder(b->builder))
    throw RpcError("rejected", "builder '" + b->builder + "' is no longer configured");
  std::string reason = str(p, "reason");
  reason = "rebuild of " + b->builder + " #" + std::to_string(b->number) + " by " + user +
           (reason.empty() ? "" : ": " + reason);
  const std::uint64_t seq = buildsets_.events().lastSeq();
  NewBuildset nb = buildsets_.create(bs->scheduler, reason, bs->sourcestamp, bs->properties,
                                     {b->builder}, req->priority);
  Json reqs = Json::object();
  for (const auto& [name, rid] : nb.requests) reqs[name] = rid;
  return Json{{"buildset_id", nb.id}, {"requests", reqs}, {"event_seq", seq}};
}

}  // namespace bb
