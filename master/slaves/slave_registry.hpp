#pragma once
// The slaves the config knows and the ones connected now. Attaching a
// slave wakes the distributor; choosing among free slaves is least
// recently used first, so work spreads evenly.
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/event_loop.hpp"
#include "config/master_config.hpp"
#include "master/slaves/slave_session.hpp"

namespace bb::db {
class Database;
}

namespace bb {

class SlaveRegistry {
 public:
  SlaveRegistry(db::Database& db, Clock& clock) : db_(db), clock_(clock) {}

  // Replaces the known slaves (reconfig). Connected slaves that are no
  // longer configured are disconnected.
  void configure(const std::vector<SlaveEntry>& slaves);
  const SlaveEntry* config(const std::string& name) const;

  // A slave finished logging in on `conn`. Returns an error text if it
  // must be refused (duplicate login); otherwise the session is live.
  std::string attach(const std::string& name, std::shared_ptr<Connection> conn);

  // The connected session, or nullptr.
  std::shared_ptr<SlaveSession> find(const std::string& name) const;
  // Among `candidates`, a connected slave with a free build slot, least
  // recently given a build first; nullptr if none.
  std::shared_ptr<SlaveSession> pickFree(const std::vector<std::string>& candidates) const;
  void buildStarted(const std::string& name);
  void buildFinished(const std::string& name);
  int runningBuilds(const std::string& name) const;
  std::size_t connectedCount() const { return sessions_.size(); }
  std::vector<std::string> connectedNames() const;

  // Closes every session (shutdown).
  void disconnectAll(const std::string& code, const std::string& message);

  std::function<void()> onAttached;  // wakes the distributor
  std::function<void(const std::string& name)> onDetached;

 private:
  void detach(const std::string& name, SlaveSession* session, const std::string& reason);
  db::Database& db_;
  Clock& clock_;
  std::map<std::string, SlaveEntry> config_;
  std::map<std::string, std::shared_ptr<SlaveSession>> sessions_;
  std::map<std::string, int> running_;
  std::map<std::string, std::uint64_t> lastUsed_;
  std::uint64_t useCounter_ = 0;
};

}  // namespace bb
