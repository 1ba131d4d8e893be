#include "master/changes/hg_poller.hpp"

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

// hg with plain output (no user aliases or defaults), through env(1) so
// no shell is involved.
SubprocessResult hg(std::vector<std::string> args) {
  args.insert(args.begin(), {"env", "HGPLAIN=1", "hg", "--noninteractive"});
  return runSubprocess(args);
}

// A revset string literal naming `branch`.
std::string branchRevset(const std::string& fn, const std::string& branch) {
  std::string quoted;
  for (char c : branch) {
    if (c == '\\' || c == '"') quoted += '\\';
    quoted += c;
  }
  return fn + "(branch(\"literal:" + quoted + "\"))";
}

bool parseHgPoller(cfg::MapReader& r, cfg::MasterParse&, ChangeSourceEntry& c) {
  return parseBranchPoller(r, c, {"a Mercurial URL or path",
                                  "branches must name at least one branch to poll, e.g. [default]",
                                  vcs::checkArgument});
}

}  // namespace

void HgPoller::declareType(ChangeSourceType& t) { t.config.parse = parseHgPoller; }

HgPoller::HgPoller(const ChangeSourceEntry& cfg, ChangeSourceServices& services)
    : Poller(cfg, services) {}

std::vector<HgPoller::Commit> HgPoller::parseLog(const std::string& text) {
  const Json list = Json::parse(text);
  std::vector<std::pair<std::int64_t, Commit>> out;
  for (const auto& j : list) {
    Commit c;
    c.revision = j.at("node").get<std::string>();
    c.author = j.value("user", "");
    c.comments = trimEnd(j.value("desc", ""));
    if (j.contains("date") && j["date"].is_array() && !j["date"].empty())
      c.when = j["date"][0].get<std::int64_t>();
    if (j.contains("files"))
      for (const auto& f : j["files"]) c.files.push_back(f.get<std::string>());
    out.emplace_back(j.value("rev", std::int64_t{0}), std::move(c));
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<Commit> commits;
  for (auto& [rev, c] : out) commits.push_back(std::move(c));
  return commits;
}

std::string HgPoller::repoUrl() const {
  if (cfg_.repo.find("://") != std::string::npos || fs::path(cfg_.repo).is_absolute())
    return cfg_.repo;
  return (fs::path(services_.masterDir) / cfg_.repo).lexically_normal().string();
}

void HgPoller::doPoll() {
  std::map<std::string, std::string> known;
  for (const auto& b : cfg_.branches) {
    auto st = services_.db.getState("hg_poller:" + cfg_.name, "branch:" + b);
    if (st && st->is_string()) known[b] = st->get<std::string>();
  }
  const std::string mirror = (fs::path(services_.masterDir) / "hgpoller" / cfg_.name).string();
  auto results = std::make_shared<std::vector<BranchResult>>();
  offload(
      [known, mirror, url = repoUrl(), branches = cfg_.branches, results] {
        std::error_code ec;
        if (!fs::exists(fs::path(mirror) / ".hg")) {
          fs::create_directories(mirror, ec);
          auto r = hg({"init", "--", mirror});
          if (r.exitCode != 0) throw std::runtime_error("hg init failed: " + trimEnd(r.err));
        }
        auto pull = hg({"--repository", mirror, "pull", "--quiet", "--", url});
        if (pull.exitCode != 0)
          throw std::runtime_error("hg pull of " + url + " failed: " + trimEnd(pull.err));
        // Every branch's head in one call (hg starts slowly).
        auto heads = hg({"--repository", mirror, "branches", "--closed", "--template",
                         "{branch}\\0{node}\\n"});
        if (heads.exitCode != 0) throw std::runtime_error("hg branches failed: " + trimEnd(heads.err));
        std::map<std::string, std::string> headOf;
        std::size_t ls = 0;
        while (ls < heads.out.size()) {
          std::size_t le = heads.out.find('\n', ls);
          if (le == std::string::npos) le = heads.out.size();
          const std::string line = heads.out.substr(ls, le - ls);
          if (auto z = line.find('\0'); z != std::string::npos)
            headOf[line.substr(0, z)] = line.substr(z + 1);
          ls = le + 1;
        }
        for (const auto& b : branches) {
          BranchResult br;
          br.branch = b;
          auto h = headOf.find(b);
          if (h == headOf.end()) {
            br.error = "branch " + b + " not found in " + url;
            results->push_back(std::move(br));
            continue;
          }
          br.head = h->second;
          auto k = known.find(b);
          if (k != known.end() && k->second != br.head) {
            // What the new head has that the old one had not, on this branch.
            auto l = hg({"--repository", mirror, "log", "--verbose", "-Tjson", "--rev",
                         "only(" + br.head + ", " + k->second + ") and " +
                             branchRevset("", b)});
            if (l.exitCode != 0)  // the old head is gone (stripped): the new head only
              l = hg({"--repository", mirror, "log", "--verbose", "-Tjson", "--rev", br.head});
            if (l.exitCode != 0)
              br.error = "hg log failed: " + trimEnd(l.err);
            else
              br.commits = parseLog(l.out);
          }
          results->push_back(std::move(br));
        }
      },
      [this, results] { pollDone(recordBranches(*results)); });
}


}  // namespace bb
