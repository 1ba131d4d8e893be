#pragma once
// Support for the version-control functional tests: real Mercurial and
// Subversion repositories in a temporary directory (svn through
// `svnadmin create` and file:// URLs), and a master with one slave whose
// builders' steps a test gives.
#include <string>
#include <vector>

#include "common/message.hpp"
#include "tests/functional/harness.hpp"

namespace bb::test {

// A Mercurial repository in `dir`.
class HgRepo {
 public:
  explicit HgRepo(std::string dir) : dir_(std::move(dir)) {}
  // hg init; throws on failure.
  void init();
  // Writes `file` with `content` and commits it on the current branch
  // (as `user`); returns the new node id.
  std::string commit(const std::string& file, const std::string& content,
                     const std::string& message = "a commit", const std::string& user = "Alice <alice@example.org>");
  // Makes the next commit start branch `name` (hg branch), or goes back to
  // an existing branch's head (hg update).
  void branch(const std::string& name);
  void update(const std::string& rev);
  // Runs "hg ARGS..." in the repository; returns stdout, throws on failure.
  std::string hg(std::vector<std::string> args) const;
  const std::string& path() const { return dir_; }

 private:
  std::string dir_;
};

// A Subversion repository in `dir`/repo (standard layout: trunk, branches,
// tags) with a working copy of its root in `dir`/wc for committing.
class SvnRepo {
 public:
  explicit SvnRepo(std::string dir) : dir_(std::move(dir)) {}
  // svnadmin create, then trunk/ branches/ tags/ in revision 1.
  void create();
  // file:///.../repo
  std::string url() const { return "file://" + dir_ + "/repo"; }
  // Writes `path` (relative to the repository root, e.g. trunk/a.txt) and
  // commits it; returns the new revision number.
  std::string commit(const std::string& path, const std::string& content,
                     const std::string& message = "a commit", const std::string& user = "alice");
  // svn copy trunk branches/NAME (a server-side copy); returns the revision.
  std::string branchFromTrunk(const std::string& name);
  // Runs "svn ARGS..." in the working copy; returns stdout, throws on failure.
  std::string svn(std::vector<std::string> args) const;
  const std::string& path() const { return dir_; }

 private:
  std::string dir_;
};

// A master (force scheduler "force" for every builder; user alice may
// sendchange, force, status) with one slave s1, in a fresh temp dir.
struct VcsEnv {
  TempDir tmp{"bb-vcs"};
  MasterProcess master{tmp.sub("master")};
  SlaveProcess slave{tmp.sub("slave"), master.port(), "s1", "pw"};

  // The master's config: `builders` (YAML list items, indented 2) and
  // `extra` top-level sections (change_sources, more schedulers).
  std::string yaml(const std::string& builders, const std::vector<std::string>& builderNames,
                   const std::string& extra = "") const;
  // Creates and starts master and slave (with `slaveEnv` added to its
  // environment); waits for the slave.
  void up(const std::string& yaml, const std::map<std::string, std::string>& slaveEnv = {});
  // Forces a build of `builder` on `branch`; waits for build `number` and
  // returns its result ("" if it did not finish).
  std::string force(const std::string& builder, int number, const std::string& branch,
                    const std::string& revision = "");
  // The logs of build `number` of `builder` (buildbot status --logs).
  std::string logs(const std::string& builder, int number) const;
  // The build's properties column (JSON text).
  std::string properties(const std::string& builder, int number) const;
  // The change source `name` as `buildbot status --json` shows it
  // (null if none).
  Json changeSource(const std::string& name) const;
  // Waits until change source `name` has finished `more` polls beyond now.
  bool waitPolls(const std::string& name, int more) const;
  // The slave's work dir of `builder` (slave/BUILDER/build).
  std::string workdir(const std::string& builder) const {
    return slave.dir() + "/" + builder + "/build";
  }
};

}  // namespace bb::test
