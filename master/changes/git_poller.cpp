#include "master/changes/git_poller.hpp"

#include <fnmatch.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>

#include <spdlog/spdlog.h>

#include "common/message.hpp"
#include "common/subprocess.hpp"
#include "common/vcs_args.hpp"
#include "config/yaml_util.hpp"
#include "master/changes/change_bus.hpp"
#include "master/changes/poller_config.hpp"
#include "master/db/database.hpp"
#include "common/trim.hpp"

namespace bb {

namespace fs = std::filesystem;

namespace {

constexpr const char* kRecordSep = "\x1e";

// Parses `git log --format=%x1e%H%x00%an <%ae>%x00%ct%x00%B%x00 --name-only`.
std::vector<GitPoller::Commit> parseLog(const std::string& out) {
  std::vector<GitPoller::Commit> commits;
  std::size_t pos = 0;
  while ((pos = out.find(kRecordSep, pos)) != std::string::npos) {
    const std::size_t end = out.find(kRecordSep, pos + 1);
    std::string rec = out.substr(pos + 1, end == std::string::npos ? std::string::npos : end - pos - 1);
    pos = end == std::string::npos ? out.size() : end;
    std::vector<std::string> parts;
    std::size_t s = 0;
    for (int i = 0; i < 4; ++i) {
      const std::size_t z = rec.find('\0', s);
      if (z == std::string::npos) break;
      parts.push_back(rec.substr(s, z - s));
      s = z + 1;
    }
    if (parts.size() < 4) continue;
    GitPoller::Commit c;
    c.revision = parts[0];
    c.author = parts[1];
    c.when = std::atoll(parts[2].c_str());
    c.comments = trimEnd(parts[3]);
    std::string files = rec.substr(s);
    std::size_t ls = 0;
    while (ls < files.size()) {
      std::size_t le = files.find('\n', ls);
      if (le == std::string::npos) le = files.size();
      std::string f = files.substr(ls, le - ls);
      if (!f.empty()) c.files.push_back(f);
      ls = le + 1;
    }
    commits.push_back(std::move(c));
  }
  // git log lists newest first.
  return {commits.rbegin(), commits.rend()};
}

bool parseGitPoller(cfg::MapReader& r, cfg::MasterParse&, ChangeSourceEntry& c) {
  return parseBranchPoller(r, c, {"a git URL or path",
                                  "branches must name at least one branch to poll, e.g. [main]",
                                  vcs::checkArgument});
}

}  // namespace

void GitPoller::declareType(ChangeSourceType& t) { t.config.parse = parseGitPoller; }

GitPoller::GitPoller(const ChangeSourceEntry& cfg, ChangeSourceServices& services)
    : Poller(cfg, services) {}

std::string GitPoller::repoUrl() const {
  // A relative local path is relative to the master directory.
  if (cfg_.repo.find("://") != std::string::npos || cfg_.repo.find('@') != std::string::npos ||
      fs::path(cfg_.repo).is_absolute())
    return cfg_.repo;
  return (fs::path(services_.masterDir) / cfg_.repo).lexically_normal().string();
}

namespace {

bool isPattern(const std::string& b) { return b.find_first_of("*?[") != std::string::npos; }

bool wanted(const std::vector<std::string>& branches, const std::string& name) {
  for (const auto& b : branches)
    if (isPattern(b) ? fnmatch(b.c_str(), name.c_str(), 0) == 0 : b == name) return true;
  return false;
}

// branch -> head of the mirror's refs/heads/.
std::map<std::string, std::string> mirrorHeads(const std::string& mirror, std::string& error) {
  std::map<std::string, std::string> out;
  auto r = runSubprocess({"git", "--git-dir", mirror, "for-each-ref", "--format=%(objectname) %(refname)", "refs/heads/"});
  if (r.exitCode != 0) {
    error = "git for-each-ref failed: " + trimEnd(r.err);
    return out;
  }
  std::size_t pos = 0;
  while (pos < r.out.size()) {
    std::size_t end = r.out.find('\n', pos);
    if (end == std::string::npos) end = r.out.size();
    const std::string line = r.out.substr(pos, end - pos);
    pos = end + 1;
    const auto sp = line.find(' ');
    if (sp == std::string::npos || line.compare(sp + 1, 11, "refs/heads/") != 0) continue;
    out[line.substr(sp + 12)] = line.substr(0, sp);
  }
  return out;
}

std::vector<GitPoller::Commit> commitsBetween(const std::string& mirror, const std::string& from,
                                              const std::string& to, std::string& error) {
  const std::string format = "--format=%x1e%H%x00%an <%ae>%x00%ct%x00%B%x00";
  auto l = from.empty() ? runSubprocess({"git", "--git-dir", mirror, "log", "-1", format, "--name-only", to})
                        : runSubprocess({"git", "--git-dir", mirror, "log", format, "--name-only", from + ".." + to});
  if (l.exitCode != 0 && !from.empty()) {
    // The old revision is gone (history rewritten): report only the head.
    l = runSubprocess({"git", "--git-dir", mirror, "log", "-1", format, "--name-only", to});
  }
  if (l.exitCode != 0) {
    error = "git log failed: " + trimEnd(l.err);
    return {};
  }
  return parseLog(l.out);
}

}  // namespace

void GitPoller::doPoll() {
  // What the database knows: each watched branch's last head (a pattern
  // watches every branch seen so far that matches it).
  const std::string object = "git_poller:" + cfg_.name;
  auto known = std::make_shared<std::map<std::string, std::string>>();
  if (auto st = services_.db.getState(object, "branches"); st && st->is_array()) {
    for (const auto& b : *st)
      if (b.is_string()) (*known)[b.get<std::string>()];
  }
  for (const auto& b : cfg_.branches)
    if (!isPattern(b)) (*known)[b];
  for (auto& [b, head] : *known) {
    auto st = services_.db.getState(object, "branch:" + b);
    if (st && st->is_string()) head = st->get<std::string>();
  }
  // After the first poll, a branch that newly matches a pattern builds its head.
  const bool polledBefore = services_.db.getState(object, "polled").has_value();
  const std::string mirror = (fs::path(services_.masterDir) / "gitpoller" / (cfg_.name + ".git")).string();
  auto results = std::make_shared<std::vector<BranchResult>>();
  offload(
      [known, polledBefore, mirror, url = repoUrl(), branches = cfg_.branches, results] {
        auto failAll = [&](const std::string& error) {
          for (const auto& b : branches) {
            BranchResult br;
            br.branch = b;
            br.error = error;
            results->push_back(br);
          }
        };
        std::error_code ec;
        if (!fs::exists(fs::path(mirror) / "HEAD")) {
          fs::create_directories(mirror, ec);
          auto r = runSubprocess({"git", "init", "--quiet", "--bare", mirror});
          if (r.exitCode != 0) return failAll("git init failed: " + trimEnd(r.err));
        }
        // One fetch for every branch: named ones by refspec (a missing one
        // is then fetched alone, so the others still poll), all branches
        // when a pattern is watched.
        bool anyPattern = false;
        std::vector<std::string> fetch{"git", "--git-dir", mirror, "fetch", "--quiet", "--force", "--prune", "--", url};
        for (const auto& b : branches) anyPattern = anyPattern || isPattern(b);
        if (anyPattern) fetch.push_back("+refs/heads/*:refs/heads/*");
        else
          for (const auto& b : branches) fetch.push_back("+refs/heads/" + b + ":refs/heads/" + b);
        std::map<std::string, std::string> fetchErrors;
        if (auto f = runSubprocess(fetch); f.exitCode != 0) {
          if (anyPattern || branches.size() == 1) return failAll("git fetch of " + url + " failed: " + trimEnd(f.err));
          for (const auto& b : branches) {
            auto one = runSubprocess({"git", "--git-dir", mirror, "fetch", "--quiet", "--force", "--", url,
                                      "+refs/heads/" + b + ":refs/heads/" + b});
            if (one.exitCode != 0) fetchErrors[b] = "git fetch of " + url + " " + b + " failed: " + trimEnd(one.err);
          }
        }
        std::string listError;
        const auto heads = mirrorHeads(mirror, listError);
        if (!listError.empty()) return failAll(listError);
        std::map<std::string, std::string> watched;  // branch -> known head ("" none)
        for (const auto& [b, head] : *known) watched[b] = head;
        for (const auto& [b, head] : heads)
          if (wanted(branches, b)) watched.emplace(b, "");
        for (const auto& [b, knownHead] : watched) {
          BranchResult br;
          br.branch = b;
          if (auto e = fetchErrors.find(b); e != fetchErrors.end()) br.error = e->second;
          auto h = heads.find(b);
          if (br.error.empty() && h == heads.end()) {
            // A named branch the repository does not have is an error; a
            // pattern's branch that was deleted is just no longer polled.
            if (std::find(branches.begin(), branches.end(), b) != branches.end())
              br.error = "branch " + b + " does not exist in " + url;
            else
              continue;
          }
          if (br.error.empty()) {
            br.head = h->second;
            if (!knownHead.empty() && knownHead != br.head)
              br.commits = commitsBetween(mirror, knownHead, br.head, br.error);
            else if (knownHead.empty() && polledBefore && !known->count(b))
              br.commits = commitsBetween(mirror, "", br.head, br.error);  // a new branch
          }
          results->push_back(std::move(br));
        }
      },
      [this, object, results] {
        // New branches join the watched list in the same transaction as
        // their first change (recordBranches), or with their first sight.
        auto& db = services_.db;
        std::string errors;
        db.transaction([&] {
          Json names = Json::array();
          for (const auto& r : *results)
            if (r.error.empty()) names.push_back(r.branch);
          const bool anyPolled = !names.empty();
          if (auto st = db.getState(object, "branches"); st && st->is_array())
            for (const auto& b : *st)
              if (std::find(names.begin(), names.end(), b) == names.end()) names.push_back(b);
          db.setState(object, "branches", names);
          errors = recordBranches(*results);
          if (anyPolled) db.setState(object, "polled", true);
        });
        pollDone(errors);
      });
}

}  // namespace bb
