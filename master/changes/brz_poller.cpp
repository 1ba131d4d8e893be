#include "master/changes/brz_poller.hpp"

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <map>
#include <memory>
#include <sstream>

#include "common/message.hpp"
#include "common/subprocess.hpp"
#include "common/vcs_args.hpp"
#include "config/yaml_util.hpp"
#include "master/changes/poller_config.hpp"
#include "master/db/database.hpp"

namespace bb {

namespace fs = std::filesystem;

namespace {

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  std::size_t i = 0;
  while (i < s.size() && s[i] == ' ') ++i;
  return s.substr(i);
}

// brz without progress bars, through env(1) so no shell is involved.
SubprocessResult brz(std::vector<std::string> args) {
  args.insert(args.begin(), {"env", "BRZ_PROGRESS_BAR=none", "BRZ_LOG=/dev/null", "LC_ALL=C.UTF-8", "brz"});
  return runSubprocess(args);
}

std::string branchUrl(const std::string& base, const std::string& branch) {
  std::string url = base;
  while (url.size() > 1 && url.back() == '/') url.pop_back();
  return branch.empty() ? url : url + "/" + branch;
}

// "Wed 2026-12-02 01:55:01 +0000" -> unix seconds (0 if malformed).
std::int64_t parseTimestamp(const std::string& v) {
  std::tm tm{};
  const char* end = strptime(v.c_str(), "%a %Y-%m-%d %H:%M:%S", &tm);
  if (!end) return 0;
  int sign = 1, hh = 0, mm = 0;
  if (std::sscanf(end, " %*1[+]%2d%2d", &hh, &mm) == 2) sign = 1;
  else if (std::sscanf(end, " -%2d%2d", &hh, &mm) == 2) sign = -1;
  return static_cast<std::int64_t>(timegm(&tm)) - sign * (hh * 3600 + mm * 60);
}

bool parseBrzPoller(cfg::MapReader& r, cfg::MasterParse&, ChangeSourceEntry& c) {
  return parseBranchPoller(r, c, {"a Breezy location (URL or path)",
                                  "branches must name at least one branch under repo, e.g. [trunk]",
                                  vcs::checkBranchPath});
}

}  // namespace

void BrzPoller::declareType(ChangeSourceType& t) { t.config.parse = parseBrzPoller; }

BrzPoller::BrzPoller(const ChangeSourceEntry& cfg, ChangeSourceServices& services)
    : Poller(cfg, services) {}

std::vector<BrzPoller::Commit> BrzPoller::parseLog(const std::string& text) {
  std::vector<Commit> out;
  std::istringstream in(text);
  std::string line, section, committer;
  Commit* c = nullptr;
  auto flush = [&] {
    if (c && c->author.empty()) c->author = committer;
  };
  while (std::getline(in, line)) {
    if (line.rfind("------------", 0) == 0) {
      flush();
      out.emplace_back();
      c = &out.back();
      section.clear();
      committer.clear();
      continue;
    }
    if (!c) continue;
    if (!line.empty() && line[0] != ' ') {
      const auto colon = line.find(':');
      const std::string key = colon == std::string::npos ? line : line.substr(0, colon);
      const std::string value = colon == std::string::npos ? "" : trim(line.substr(colon + 1));
      section.clear();
      if (key == "revision-id") c->revision = value;
      else if (key == "author") c->author = value;
      else if (key == "committer") committer = value;
      else if (key == "timestamp") c->when = parseTimestamp(value);
      else if (key == "message" || key == "added" || key == "modified" || key == "removed" ||
               key == "renamed" || key == "kind changed")
        section = key;
      continue;
    }
    if (section == "message") {
      c->comments += (c->comments.empty() ? "" : "\n") + (line.size() >= 2 ? line.substr(2) : "");
    } else if (!section.empty()) {
      // "  PATH<spaces>FILE-ID" (renamed: "  OLD => NEW<spaces>FILE-ID").
      std::string entry = trim(line);
      const auto gap = entry.find_last_of(' ');
      if (gap != std::string::npos) entry = trim(entry.substr(0, gap));
      if (const auto arrow = entry.find(" => "); arrow != std::string::npos) entry = entry.substr(arrow + 4);
      if (!entry.empty() && entry.back() != '/' && entry.back() != '*' && entry.back() != '@')
        c->files.push_back(entry);
    }
  }
  flush();
  std::erase_if(out, [](const Commit& x) { return x.revision.empty(); });
  for (auto& x : out) x.comments = trim(x.comments);
  return out;
}

std::string BrzPoller::repoUrl() const {
  if (cfg_.repo.find("://") != std::string::npos || fs::path(cfg_.repo).is_absolute()) return cfg_.repo;
  return (fs::path(services_.masterDir) / cfg_.repo).lexically_normal().string();
}

void BrzPoller::doPoll() {
  std::map<std::string, std::string> known;
  for (const auto& b : cfg_.branches) {
    auto st = services_.db.getState("brz_poller:" + cfg_.name, "branch:" + b);
    if (st && st->is_string()) known[b] = st->get<std::string>();
  }
  auto results = std::make_shared<std::vector<BranchResult>>();
  offload(
      [known, base = repoUrl(), branches = cfg_.branches, results] {
        for (const auto& b : branches) {
          BranchResult br;
          br.branch = b;
          const std::string url = branchUrl(base, b);
          auto info = brz({"revision-info", "--directory", url});
          const std::string head = trim(info.out);
          if (info.exitCode != 0 || head.find(' ') == std::string::npos) {
            br.error = "brz revision-info of " + url + " failed: " + trim(info.err);
            results->push_back(std::move(br));
            continue;
          }
          br.head = head.substr(head.find(' ') + 1);
          auto k = known.find(b);
          if (k != known.end() && k->second != br.head) {
            // The mainline from the old head on (inclusive: it is dropped).
            auto l = brz({"log", "--long", "--verbose", "--show-ids", "--forward", "--levels=1",
                          "--revision", "revid:" + k->second + "..", "--", url});
            if (l.exitCode != 0)  // the old head is gone (pull --overwrite): the new head only
              l = brz({"log", "--long", "--verbose", "--show-ids", "--levels=1", "--revision",
                       "revid:" + br.head, "--", url});
            if (l.exitCode != 0) {
              br.error = "brz log of " + url + " failed: " + trim(l.err);
            } else {
              br.commits = parseLog(l.out);
              std::erase_if(br.commits, [&](const Commit& c) { return c.revision == k->second; });
            }
          }
          results->push_back(std::move(br));
        }
      },
      [this, results] { pollDone(recordBranches(*results)); });
}

}  // namespace bb
