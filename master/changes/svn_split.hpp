#pragma once
// The Subversion path split: a path changed in a commit (relative to the
// poller's repository URL) becomes a branch and a file inside it. A
// pattern is a path of '/'-separated segments where `*` matches any one
// segment; the path's first segments that match the pattern are the
// branch, the rest is the file. Patterns are tried in order; a path that
// matches none belongs to no branch and is ignored.
//
//   standard layout: trunk, branches/*, tags/*
//     trunk/src/a.c          -> branch trunk,             file src/a.c
//     branches/1.x/src/a.c   -> branch branches/1.x,      file src/a.c
//   custom, one repository holding several projects: */trunk, */branches/*
//     app/branches/fix/b.c   -> branch app/branches/fix,  file b.c
//
// The branch is what the svn step appends to its base URL, so a change
// builds exactly the tree it was committed to.
#include <optional>
#include <string>
#include <vector>

namespace bb {

struct SvnPathSplit {
  std::string branch;
  std::string file;  // "" when the branch directory itself changed; "dir/" for a directory
};

// trunk, branches/*, tags/*
const std::vector<std::string>& standardSvnLayout();

// The split of `path` (leading '/' ignored) by the first matching pattern.
std::optional<SvnPathSplit> splitSvnPath(const std::vector<std::string>& patterns,
                                         const std::string& path);

// Why `pattern` is not usable ("" if it is): empty, a leading or trailing
// '/', an empty segment, `..`, or a segment mixing `*` with text.
std::string checkSvnPattern(const std::string& pattern);

}  // namespace bb
