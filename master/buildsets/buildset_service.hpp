#pragma once
// Creates BuildSets (one BuildRequest per builder) and tells the
// distributor once they are committed.
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "master/db/records.hpp"

namespace bb::db {
class Database;
}

namespace bb {

struct NewBuildset {
  std::int64_t id = 0;
  std::map<std::string, std::int64_t> requests;  // builder -> request id
};

class BuildsetService {
 public:
  BuildsetService(db::Database& db, std::function<void()> wake) : db_(db), wake_(std::move(wake)) {}

  // Writes the buildset and its requests in one transaction (joining an
  // outer one if open), then wakes the distributor (which runs after the
  // current event, so after the outer commit too).
  NewBuildset create(const std::string& scheduler, const std::string& reason,
                     const db::SourceStamp& ss, const Json& properties,
                     const std::vector<std::string>& builders, int priority);

 private:
  db::Database& db_;
  std::function<void()> wake_;
};

}  // namespace bb
