#pragma once
// force: starts a BuildSet on request (buildbot force, the web page).
// Every field is validated at once and every problem is reported together.
#include <stdexcept>
#include <string>
#include <vector>

#include "master/schedulers/scheduler.hpp"

namespace bb {

struct ForceError : std::runtime_error {
  ForceError(const std::string& what, std::vector<std::string> d)
      : std::runtime_error(what), details(std::move(d)) {}
  std::vector<std::string> details;
};

class ForceScheduler : public Scheduler {
 public:
  bool runsOnOneMaster() const override { return false; }
  using Scheduler::Scheduler;
  // params: {builders:[..] (empty = all), branch, revision, reason, owner,
  // properties:{name: string}}. Throws ForceError listing every problem; a
  // builder that is not in `allBuilders` (every configured builder; empty:
  // not known) is reported as unknown, one that is but is not this
  // scheduler's as not on it. A property the source stamp sets (revision,
  // branch, ...) is dropped with a line in `notes` saying what to use.
  NewBuildset force(const Json& params, const std::string& user,
                    const std::vector<std::string>& allBuilders = {},
                    std::vector<std::string>* notes = nullptr);
  // "b1, b2": the builders it can build.
  std::string builderList() const;
  // {builders, fields: what `force` accepts}.
  Json describe() const override;
};

}  // namespace bb
