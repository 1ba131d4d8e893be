#pragma once
// hg_poller: watches named branches of a Mercurial repository (any URL or
// path hg can pull) and turns each new changeset into a Change on its
// branch. It keeps a clone without a working copy in the master
// directory (hgpoller/NAME); the last seen head per branch is stored with
// the changes it produced (object hg_poller:NAME, key branch:B), so a
// restart never repeats or loses a change, and a branch's first sight
// only records its head. hg runs on a worker thread; failures and
// back-off are the Poller's.
#include <cstdint>
#include <string>
#include <vector>

#include "master/changes/poller.hpp"

namespace bb {

class HgPoller : public Poller {
 public:
  HgPoller(const ChangeSourceEntry& cfg, ChangeSourceServices& services);
  // Its keys: repo and branches (required), interval, project, category.
  static void declareType(ChangeSourceType& t);

  // Parses `hg log -Tjson --verbose` output, oldest first; throws on bad JSON.
  static std::vector<Commit> parseLog(const std::string& json);

 protected:
  void doPoll() override;

 private:
  std::string repoUrl() const;
};

}  // namespace bb
