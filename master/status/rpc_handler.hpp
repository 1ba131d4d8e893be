#pragma once
// The client methods (buildbot sendchange / force / status / cancel /
// priority / stop-build / rebuild / try): decode the
// params, make one call into the core, encode the answer. Permissions come
// from the user's `may` list in the master config.
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/message.hpp"
#include "config/master_config.hpp"

namespace bb::db {
class Database;
}

namespace bb {

class Build;
class BuildsetService;
class ChangeBus;
class SchedulerSet;
class SlaveRegistry;
class ChangeSource;
class PendingWrites;
class TryUserpassScheduler;

struct RpcError : std::runtime_error {
  RpcError(std::string c, const std::string& message, std::vector<std::string> d = {})
      : std::runtime_error(message), code(std::move(c)), details(std::move(d)) {}
  std::string code;  // bad_request, not_found, not_permitted, rejected, internal
  std::vector<std::string> details;
};

class RpcHandler {
 public:
  RpcHandler(db::Database& db, ChangeBus& bus, SchedulerSet& schedulers,
             BuildsetService& buildsets, std::function<const MasterConfig&()> config)
      : db_(db), bus_(bus), schedulers_(schedulers), buildsets_(buildsets),
        config_(std::move(config)) {}

  // Where stop_build finds running builds (the distributor's).
  void setRunningBuilds(std::function<std::vector<std::shared_ptr<Build>>()> fn) {
    runningBuilds_ = std::move(fn);
  }

  // Where `status` reads the slaves' live state (connected, draining,
  // builds) and `stop_slave` drains one.
  void setSlaveRegistry(SlaveRegistry* slaves) { slaves_ = slaves; }
  // Where `status` reads the change sources' state (last poll, errors).
  void setChangeSources(std::function<std::vector<const ChangeSource*>()> fn) {
    changeSources_ = std::move(fn);
  }

  // Where `status` (and the web's /metrics) read the reporters' delivery
  // counters: one Reporter::describe() each.
  void setReporters(std::function<Json()> fn) { reporters_ = std::move(fn); }
  // [{name, type, queued, sent, retries, failed, dropped, last_error...}].
  Json reporters() const { return reporters_ ? reporters_() : Json::array(); }

  // Where `status` reads the storage condition (its `storage` field); a
  // request that fails for a full disk marks it.
  void setStorage(PendingWrites* storage) { storage_ = storage; }
  // Where `status` reads the retention janitor's state (its `retention`
  // field: RetentionJanitor::describe()).
  void setRetention(std::function<Json()> fn) { retention_ = std::move(fn); }
  Json retention() const { return retention_ ? retention_() : Json(); }

  // Throws RpcError(not_permitted) unless `user` may call `method`.
  void authorize(const std::string& user, const std::string& method) const;
  // The read-only methods (status, build, log, buildset, change_status, stats)
  // for a caller that checked who may read itself (the web API, where
  // reading can be open); throws RpcError, bad_request for another method.
  Json read(const std::string& method, const Json& params);
  // Runs `method` for `user`; returns the result map or throws RpcError.
  Json call(const std::string& user, const std::string& method, const Json& params);
  // Runs `method` for a caller whose permission its own rules checked
  // (the IRC reporter's authorised nicks); `who` ("irc:alice") is named in
  // reasons and logs as the user is. Throws RpcError as call() does.
  Json callChecked(const std::string& who, const std::string& method, const Json& params);

 private:
  Json dispatch(const std::string& user, const std::string& method, const Json& params);
  Json sendchange(const Json& p);
  Json force(const std::string& user, const Json& p);
  // {job_id} -> {job_id, buildset_id} once the try job's BuildSet is
  // committed, {job_id, refused: why} if a try scheduler refused it
  // recently, or {job_id} while it waits.
  Json tryJob(const Json& p);
  // The try_userpass path (rpc_try.cpp): the scheduler named, or the only
  // one; not_found / bad_request listing them otherwise.
  TryUserpassScheduler& tryScheduler(const std::string& name);
  Json tryBuilders(const Json& p);
  Json tryStart(const std::string& user, const Json& p);
  Json tryUpload(const std::string& user, const Json& p);
  Json tryFinish(const std::string& user, const Json& p);
  Json status(const Json& p);
  Json build(const Json& p);
  Json log(const Json& p);
  Json buildset(const Json& p);
  Json changeStatus(const Json& p);
  // {builder?, since?, steps? (default false)}: weekly build statistics (rpc_stats.cpp).
  Json stats(const Json& p);
  Json cancel(const std::string& user, const Json& p);
  Json priority(const std::string& user, const Json& p);
  Json stopBuild(const std::string& user, const Json& p);
  Json rebuild(const std::string& user, const Json& p);
  // {slave, reason?}: a graceful stop of a connected slave (rpc_slaves.cpp).
  Json stopSlave(const std::string& user, const Json& p);

  db::Database& db_;
  ChangeBus& bus_;
  SchedulerSet& schedulers_;
  BuildsetService& buildsets_;
  std::function<const MasterConfig&()> config_;
  std::function<std::vector<std::shared_ptr<Build>>()> runningBuilds_;
  SlaveRegistry* slaves_ = nullptr;
  std::function<std::vector<const ChangeSource*>()> changeSources_;
  std::function<Json()> reporters_;
  PendingWrites* storage_ = nullptr;
  std::function<Json()> retention_;
};

}  // namespace bb
