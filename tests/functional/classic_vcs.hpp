#pragma once
// Real repositories of the classic design's other systems for the
// functional tests: Darcs, Bazaar/Breezy, CVS and GNU Arch (tla), each in
// a temporary directory, with HOME pointing at a directory of the test's
// own (brz whoami, tla my-id and darcs' author live there), never the
// real one. Every command throws on failure with its output.
#include <map>
#include <string>
#include <vector>

namespace bb::test {

// Runs argv in cwd with HOME=home (and LC_ALL=C); stdout, throws on failure.
std::string vcsMust(const std::vector<std::string>& argv, const std::string& cwd,
                    const std::string& home);

// Darcs: each branch is a repository `base`/BRANCH.
class DarcsRepo {
 public:
  DarcsRepo(std::string base, std::string home) : base_(std::move(base)), home_(std::move(home)) {}
  // darcs init base/BRANCH, or a clone of base/FROM.
  void create(const std::string& branch);
  void fork(const std::string& from, const std::string& branch);
  // Writes and records `file` on `branch`; returns the new patch's hash.
  std::string commit(const std::string& branch, const std::string& file, const std::string& content,
                     const std::string& message = "a patch", const std::string& author = "Alice <alice@example.org>");
  const std::string& base() const { return base_; }

 private:
  std::string base_, home_;
};

// Breezy: a shared repository `base` holding branches `base`/BRANCH.
class BrzRepo {
 public:
  BrzRepo(std::string base, std::string home) : base_(std::move(base)), home_(std::move(home)) {}
  // brz init-shared-repo base; brz init base/BRANCH.
  void create(const std::string& firstBranch);
  void fork(const std::string& from, const std::string& branch);
  // Writes and commits `file` on `branch`; returns the revision id.
  std::string commit(const std::string& branch, const std::string& file, const std::string& content,
                     const std::string& message = "a commit", const std::string& author = "Alice <alice@example.org>");
  std::string revno(const std::string& branch) const;
  const std::string& base() const { return base_; }

 private:
  std::string base_, home_;
};

// CVS: a CVSROOT `dir`/root with module `app` and working copies per
// branch in `dir`/wc-BRANCH (HEAD for the trunk).
class CvsRepo {
 public:
  CvsRepo(std::string dir, std::string home) : dir_(std::move(dir)), home_(std::move(home)) {}
  // cvs init, import of module app with a.txt.
  void create();
  // cvs tag -b NAME on the trunk's working copy, and a working copy of it.
  void branch(const std::string& name);
  // Writes and commits `file` on `branch` (HEAD: the trunk).
  void commit(const std::string& branch, const std::string& file, const std::string& content,
              const std::string& message = "a commit");
  std::string root() const { return dir_ + "/root"; }
  std::string wc(const std::string& branch) const { return dir_ + "/wc-" + branch; }
  std::string cvs(std::vector<std::string> args, const std::string& branch) const;

 private:
  std::string dir_, home_;
};

// GNU Arch: an archive `dir`/archive named kArchive, version app--main--1.0
// imported from the tree `dir`/src-main; branches are tags of it with
// their own trees `dir`/src-BRANCH.
class TlaRepo {
 public:
  static constexpr const char* kArchive = "alice@example.org--test";
  TlaRepo(std::string dir, std::string home) : dir_(std::move(dir)), home_(std::move(home)) {}
  // tla my-id, make-archive, archive-setup, init-tree, import (base-0).
  void create();
  // tla tag app--main--1.0 app--BRANCH--1.0, and a tree of it.
  void branch(const std::string& name);
  // Writes `file` in the tree of `branch` (main: app--main--1.0) and commits;
  // returns the new patch level (patch-N).
  std::string commit(const std::string& branch, const std::string& file, const std::string& content,
                     const std::string& message = "a commit");
  std::string location() const { return dir_ + "/archive"; }
  std::string tree(const std::string& branch) const { return dir_ + "/src-" + branch; }
  std::string tla(std::vector<std::string> args, const std::string& cwd) const;

 private:
  std::string dir_, home_;
};

}  // namespace bb::test
