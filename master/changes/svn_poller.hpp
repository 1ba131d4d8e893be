#pragma once
// svn_poller: watches a Subversion repository URL and turns each new
// revision into one Change per branch it touched, splitting every changed
// path into branch and file (svn_split.hpp: the standard trunk/branches/
// tags layout, or the entry's `split` patterns). The last revision seen
// is stored with the changes it produced (object svn_poller:NAME, key
// last_revision), so a restart never repeats or loses one; the first
// poll only records the repository's head. svn runs on a worker thread;
// failures and back-off are the Poller's.
#include <cstdint>
#include <string>
#include <vector>

#include "master/changes/poller.hpp"

namespace bb {

class SvnPoller : public Poller {
 public:
  SvnPoller(const ChangeSourceEntry& cfg, ChangeSourceServices& services);
  // Its keys: repo (required, a URL), split, interval, project, category.
  static void declareType(ChangeSourceType& t);

  // One revision from `svn log --xml -v`: paths relative to the
  // repository root, with a leading '/' (and a trailing one for a
  // directory).
  struct LogEntry {
    std::int64_t revision = 0;
    std::string author, message;
    std::int64_t when = 0;
    std::vector<std::string> paths;
  };
  // Parses `svn log --xml -v` output; throws on malformed XML.
  static std::vector<LogEntry> parseLog(const std::string& xml);

 protected:
  void doPoll() override;

 private:
  struct Polled {
    std::int64_t head = 0;
    std::string prefix;  // the URL's path under the repository root, e.g. /proj
    std::vector<LogEntry> entries;
  };
  void onPolled(const Polled& p);
};

}  // namespace bb
