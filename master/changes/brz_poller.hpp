#pragma once
// brz_poller: watches branches of Bazaar/Breezy (any location brz can
// read: a path, file://, bzr://, http(s)://, bzr+ssh://) and turns each
// new mainline revision into a Change on its branch. A branch is a
// location, so the poller watches repo + "/" + BRANCH for each of
// `branches` (as the brz step checks them out). It reads the branches
// in place (no mirror); the last seen revision id per branch is stored
// with the changes it produced (object brz_poller:NAME, key branch:B), so
// a restart never repeats or loses a change, and a branch's first sight
// only records its head. brz runs on a worker thread; failures and
// back-off are the Poller's.
#include <string>
#include <vector>

#include "master/changes/poller.hpp"

namespace bb {

class BrzPoller : public Poller {
 public:
  BrzPoller(const ChangeSourceEntry& cfg, ChangeSourceServices& services);
  // Its keys: repo and branches (required), interval, project, category.
  static void declareType(ChangeSourceType& t);

  // Parses `brz log --long --verbose --show-ids --forward` output (oldest
  // first): revision id, author (else committer), message, files.
  static std::vector<Commit> parseLog(const std::string& text);

 protected:
  void doPoll() override;

 private:
  std::string repoUrl() const;
};

}  // namespace bb
