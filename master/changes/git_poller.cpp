#include "master/changes/git_poller.hpp"

#include <filesystem>
#include <map>
#include <memory>

#include <spdlog/spdlog.h>

#include "common/message.hpp"
#include "common/subprocess.hpp"
#include "common/vcs_args.hpp"
#include "config/yaml_util.hpp"
#include "master/changes/change_bus.hpp"
#include "master/db/database.hpp"

namespace bb {

namespace fs = std::filesystem;

namespace {

constexpr const char* kRecordSep = "\x1e";

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

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
    c.comments = trim(parts[3]);
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

bool parse(cfg::MapReader& r, cfg::MasterParse&, ChangeSourceEntry& c) {
  r.allowKeys({"name", "type", "repo", "branches", "interval", "project", "category"});
  auto repo = r.string("repo", true);
  if (repo && repo->empty()) {
    r.error(r.markOf("repo"), "repo must be a git URL or path, not empty");
    repo.reset();
  }
  if (repo) {
    try {
      vcs::checkRepoUrl("repo", *repo);
    } catch (const ProtocolError& e) {
      r.error(r.markOf("repo"), e.what());
      repo.reset();
    }
  }
  auto branches = r.stringList("branches", true);
  if (branches && branches->empty()) {
    r.error(r.markOf("branches"), "branches must name at least one branch to poll, e.g. [main]");
    branches.reset();
  }
  for (const auto& b : branches.value_or(std::vector<std::string>{})) {
    try {
      vcs::checkArgument("branch name", b);
    } catch (const ProtocolError& e) {
      r.error(r.markOf("branches"), e.what());
      branches.reset();
      break;
    }
  }
  if (auto n = r.integer("interval", 1, 86400)) c.interval = static_cast<int>(*n);
  if (auto s = r.string("project")) c.project = *s;
  if (auto s = r.string("category")) c.category = *s;
  if (!repo || !branches) return false;
  c.repo = *repo;
  c.branches = *branches;
  return true;
}

}  // namespace

void GitPoller::declareType(ChangeSourceType& t) { t.config.parse = parse; }

GitPoller::GitPoller(const ChangeSourceEntry& cfg, ChangeSourceServices& services)
    : Poller(cfg, services) {}

std::string GitPoller::repoUrl() const {
  // A relative local path is relative to the master directory.
  if (cfg_.repo.find("://") != std::string::npos || cfg_.repo.find('@') != std::string::npos ||
      fs::path(cfg_.repo).is_absolute())
    return cfg_.repo;
  return (fs::path(services_.masterDir) / cfg_.repo).lexically_normal().string();
}

void GitPoller::doPoll() {
  std::map<std::string, std::string> known;
  for (const auto& b : cfg_.branches) {
    auto st = services_.db.getState("git_poller:" + cfg_.name, "branch:" + b);
    if (st && st->is_string()) known[b] = st->get<std::string>();
  }
  const std::string mirror =
      (fs::path(services_.masterDir) / "gitpoller" / (cfg_.name + ".git")).string();
  auto results = std::make_shared<std::vector<BranchResult>>();
  offload(
      [known, mirror, url = repoUrl(), branches = cfg_.branches, results] {
        std::string setupError;
        std::error_code ec;
        if (!fs::exists(fs::path(mirror) / "HEAD")) {
          fs::create_directories(mirror, ec);
          auto r = runSubprocess({"git", "init", "--quiet", "--bare", mirror});
          if (r.exitCode != 0) setupError = "git init failed: " + trim(r.err);
        }
        for (const auto& b : branches) {
          BranchResult br;
          br.branch = b;
          if (!setupError.empty()) {
            br.error = setupError;
            results->push_back(br);
            continue;
          }
          auto f = runSubprocess({"git", "--git-dir", mirror, "fetch", "--quiet", "--force", "--", url,
                                  "+refs/heads/" + b + ":refs/heads/" + b});
          if (f.exitCode != 0) {
            br.error = "git fetch of " + url + " " + b + " failed: " + trim(f.err);
            results->push_back(br);
            continue;
          }
          auto h = runSubprocess({"git", "--git-dir", mirror, "rev-parse", "refs/heads/" + b});
          if (h.exitCode != 0) {
            br.error = "git rev-parse failed: " + trim(h.err);
            results->push_back(br);
            continue;
          }
          br.head = trim(h.out);
          auto k = known.find(b);
          if (k != known.end() && k->second != br.head) {
            auto l = runSubprocess({"git", "--git-dir", mirror, "log",
                                    "--format=%x1e%H%x00%an <%ae>%x00%ct%x00%B%x00", "--name-only",
                                    k->second + ".." + br.head});
            if (l.exitCode != 0) {
              // The old revision is gone (history rewritten): report only the head.
              l = runSubprocess({"git", "--git-dir", mirror, "log", "-1",
                                 "--format=%x1e%H%x00%an <%ae>%x00%ct%x00%B%x00", "--name-only",
                                 br.head});
            }
            if (l.exitCode != 0) br.error = "git log failed: " + trim(l.err);
            else br.commits = parseLog(l.out);
          }
          results->push_back(std::move(br));
        }
      },
      [this, results] { pollDone(recordBranches(*results)); });
}


}  // namespace bb
