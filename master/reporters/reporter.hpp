#pragma once
// A reporter tells people (or other systems) about builds: mail today;
// IRC, commit status to forges and a generic HTTP push are siblings. Each
// reads the event bus with a filter of its own, decides on the master's
// loop what to say (reading views and the database there), and hands the
// message to its own DeliveryQueue, whose worker thread does the slow
// part. Nothing a reporter does blocks the loop, and a server that is down
// only delays what it says.
//
// Types are registered in one place (reporter_types.cpp): a name, the
// config check of its keys (its `declareType`) and a factory.
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/event_loop.hpp"
#include "common/message.hpp"  // Json
#include "config/config_kinds.hpp"
#include "config/master_config.hpp"
#include "master/events/event_filter.hpp"
#include "master/reporters/report_claims.hpp"

namespace bb::db {
class Database;
}
namespace boost::asio {
class io_context;
}

namespace bb {

class EventBus;
class RpcHandler;
class SecretStore;

// What a reporter may use; every reference outlives the reporter.
struct ReporterServices {
  db::Database& db;
  EventBus& events;
  Clock& clock;
  // The config in effect (master.url, master.name, builders).
  std::function<const MasterConfig&()> config;
  // The secrets of the config the reporter was made from (never null).
  std::shared_ptr<const SecretStore> secrets;
  // Runs a task on the master's loop (from any thread).
  std::function<void(std::function<void()>)> post;
  // The master's loop, for a reporter that keeps a connection of its own
  // (IRC), and the control methods the client and web use (IRC commands).
  boost::asio::io_context* io = nullptr;
  RpcHandler* rpc = nullptr;
  // With several masters on one database: reporters hear every master's
  // builds and report one only if claims->mine() (report_claims.hpp).
  // Null on a database of this master's own.
  ReportClaims* claims = nullptr;

  // Sets the filter to hear other masters' events when claims are in use.
  void shareWithOtherMasters(EventFilter& f) const { f.otherMasters = claims != nullptr; }
  // Whether the reporter `name` reports `e` here (always, alone).
  bool reportsHere(const std::string& name, const Event& e) const { return !claims || claims->mine(name, e); }
};

class Reporter {
 public:
  virtual ~Reporter() = default;
  // Before start(), after a reconfig: takes over what `old` (the running
  // reporter of the same name and type) has queued, so waiting messages
  // go out with the new settings (a fixed password, another server).
  // By default nothing is taken and `old` finishes its own queue.
  virtual void adopt(Reporter& old) { (void)old; }
  // Subscribes to the events it reports and starts its worker.
  virtual void start() = 0;
  // Stops taking events. What is already queued is still delivered (and
  // retried as long as the master runs: a reporter retired by a reconfig
  // finishes its queue).
  virtual void stop() = 0;
  // Gives the worker up to `limit` to deliver what is queued, then drops
  // the rest with a log line; joins the worker. Called once, at shutdown.
  virtual void finish(std::chrono::milliseconds limit) = 0;
  virtual const ReporterEntry& config() const = 0;
  // {name, type, queued, sent, failed, dropped, last_error}.
  virtual Json describe() const = 0;
};

struct ReporterType {
  std::string name;  // the config's `type`
  ReporterKind config;
  std::function<std::unique_ptr<Reporter>(const ReporterEntry&, ReporterServices&)> make;
};

// Every reporter type this master runs (reporter_types.cpp).
const std::vector<ReporterType>& reporterTypes();
// The type named `name`, or nullptr.
const ReporterType* findReporterType(const std::string& name);

}  // namespace bb
