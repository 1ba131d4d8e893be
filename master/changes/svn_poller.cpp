#include "master/changes/svn_poller.hpp"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>

#include <boost/property_tree/ptree.hpp>
#include <boost/property_tree/xml_parser.hpp>
#include <spdlog/spdlog.h>

#include "common/message.hpp"
#include "common/subprocess.hpp"
#include "common/vcs_args.hpp"
#include "config/yaml_util.hpp"
#include "master/changes/change_bus.hpp"
#include "master/changes/poller_config.hpp"
#include "master/changes/svn_split.hpp"
#include "master/db/database.hpp"
#include "common/trim.hpp"

namespace bb {

namespace {

// "2026-12-01T18:35:28.038281Z" -> unix seconds (0 if unreadable).
std::int64_t parseSvnDate(const std::string& d) {
  std::tm tm{};
  if (d.size() < 19 || !strptime(d.substr(0, 19).c_str(), "%Y-%m-%dT%H:%M:%S", &tm)) return 0;
  return static_cast<std::int64_t>(timegm(&tm));
}

// %XX decoding, for the repository-relative prefix of a URL.
std::string urlDecode(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string svnError(const std::string& what, const SubprocessResult& r) {
  return what + " failed: " + trimEnd(r.err.empty() ? r.out : r.err);
}

bool parseSvnPoller(cfg::MapReader& r, cfg::MasterParse&, ChangeSourceEntry& c) {
  r.allowKeys({"name", "type", "repo", "split", "interval", "project", "category"});
  bool ok = true;
  auto repo = r.string("repo", true);
  if (repo) {
    std::string why;
    try {
      vcs::checkRepoUrl("repo", *repo);
    } catch (const ProtocolError& e) {
      why = e.what();
    }
    if (repo->find("://") == std::string::npos)
      why = "repo must be a Subversion URL (file:///srv/svn/app, svn://host/app, https://...), "
            "not '" + *repo + "'";
    if (!why.empty()) {
      r.error(r.markOf("repo"), why);
      ok = false;
    } else {
      while (repo->size() > 1 && repo->back() == '/') repo->pop_back();
      c.repo = *repo;
    }
  } else {
    ok = false;
  }
  if (auto split = r.stringList("split")) {
    if (split->empty()) {
      r.error(r.markOf("split"), "split must list at least one pattern, e.g. [trunk, branches/*]");
      ok = false;
    }
    for (const auto& pat : *split) {
      if (auto why = checkSvnPattern(pat); !why.empty()) {
        r.error(r.markOf("split"), why);
        ok = false;
      }
    }
    c.split = *split;
  }
  parsePollerCommon(r, c);
  return ok;
}

}  // namespace

void SvnPoller::declareType(ChangeSourceType& t) { t.config.parse = parseSvnPoller; }

SvnPoller::SvnPoller(const ChangeSourceEntry& cfg, ChangeSourceServices& services)
    : Poller(cfg, services) {}

std::vector<SvnPoller::LogEntry> SvnPoller::parseLog(const std::string& xml) {
  namespace pt = boost::property_tree;
  pt::ptree tree;
  std::istringstream in(xml);
  pt::read_xml(in, tree);
  std::vector<LogEntry> out;
  // get_child's default is returned by reference: it must outlive the
  // loop, so it is a named empty tree, not a temporary.
  const pt::ptree none;
  for (const auto& [tag, entry] : tree.get_child("log", none)) {
    if (tag != "logentry") continue;
    LogEntry e;
    e.revision = entry.get<std::int64_t>("<xmlattr>.revision");
    e.author = entry.get<std::string>("author", "");
    e.message = trimEnd(entry.get<std::string>("msg", ""));
    e.when = parseSvnDate(entry.get<std::string>("date", ""));
    for (const auto& [ptag, p] : entry.get_child("paths", none))
      if (ptag == "path")
        e.paths.push_back(p.data() + (p.get<std::string>("<xmlattr>.kind", "") == "dir" ? "/" : ""));
    out.push_back(std::move(e));
  }
  return out;
}

void SvnPoller::doPoll() {
  std::int64_t known = -1;
  if (auto st = services_.db.getState("svn_poller:" + cfg_.name, "last_revision");
      st && st->is_number_integer())
    known = st->get<std::int64_t>();
  auto result = std::make_shared<Polled>();
  offload(
      [url = cfg_.repo, known, result] {
        auto info = runSubprocess({"svn", "info", "--non-interactive", "--show-item", "revision",
                                   "--", url + "@"});
        if (info.exitCode != 0) throw std::runtime_error(svnError("svn info of " + url, info));
        result->head = std::stoll(trimEnd(info.out));
        auto root = runSubprocess({"svn", "info", "--non-interactive", "--show-item",
                                   "repos-root-url", "--", url + "@"});
        if (root.exitCode != 0) throw std::runtime_error(svnError("svn info of " + url, root));
        const std::string rootUrl = trimEnd(root.out);
        if (url.compare(0, rootUrl.size(), rootUrl) == 0)
          result->prefix = urlDecode(url.substr(rootUrl.size()));
        if (known < 0 || result->head <= known) return;
        auto log = runSubprocess({"svn", "log", "--non-interactive", "--xml", "--verbose",
                                  "--revision", std::to_string(known + 1) + ":" +
                                                    std::to_string(result->head),
                                  "--", url + "@"});
        if (log.exitCode != 0) throw std::runtime_error(svnError("svn log of " + url, log));
        result->entries = parseLog(log.out);
      },
      [this, result] {
        onPolled(*result);
        pollDone("");
      });
}

void SvnPoller::onPolled(const Polled& p) {
  const std::string object = "svn_poller:" + cfg_.name;
  auto& db = services_.db;
  auto st = db.getState(object, "last_revision");
  if (!st || !st->is_number_integer()) {
    db.setState(object, "last_revision", p.head);
    spdlog::info("svn_poller {}: watching {} at r{}", cfg_.name, cfg_.repo, p.head);
    return;
  }
  const auto& patterns = cfg_.split.empty() ? standardSvnLayout() : cfg_.split;
  std::string prefix = p.prefix;
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  for (const auto& e : p.entries) {
    if (e.revision <= st->get<std::int64_t>()) continue;
    // One change per branch, in the order the branches first appear.
    std::vector<std::pair<std::string, std::vector<std::string>>> byBranch;
    for (const auto& path : e.paths) {
      if (path.compare(0, prefix.size(), prefix) != 0) continue;
      std::string rel = path.substr(prefix.size());
      if (!rel.empty() && rel[0] != '/' && !prefix.empty()) continue;  // a sibling, not inside
      auto split = splitSvnPath(patterns, rel);
      if (!split) continue;
      auto it = std::find_if(byBranch.begin(), byBranch.end(),
                             [&](const auto& b) { return b.first == split->branch; });
      if (it == byBranch.end()) it = byBranch.insert(byBranch.end(), {split->branch, {}});
      // A directory (added, copied, deleted) marks its branch but is no file.
      if (!split->file.empty() && split->file.back() != '/') it->second.push_back(split->file);
    }
    if (byBranch.empty())
      spdlog::info("svn_poller {}: r{} touches no branch (no split pattern matched)", cfg_.name,
                   e.revision);
    // A revision that touched several branches and was cut short by a
    // crash: its first `skip` changes are stored already.
    std::size_t skip = 0;
    if (auto part = db.getState(object, "in_revision");
        part && part->is_object() && part->value("revision", std::int64_t{0}) == e.revision)
      skip = part->value("done", std::size_t{0});
    for (std::size_t i = skip; i < byBranch.size(); ++i) {
      db::ChangeRecord ch;
      ch.author = e.author;
      ch.comments = e.message;
      ch.branch = byBranch[i].first;
      ch.revision = std::to_string(e.revision);
      ch.repository = cfg_.repo;
      ch.project = cfg_.project;
      ch.category = cfg_.category;
      ch.when = e.when;
      ch.files = byBranch[i].second;
      ch.source = object;
      // Progress is stored with each change, in its transaction: a crash
      // part way repeats nothing and loses nothing.
      const bool last = i + 1 == byBranch.size();
      const std::int64_t rev = e.revision;
      services_.bus.addChange(std::move(ch), [&db, object, rev, last, i] {
        if (last) {
          db.setState(object, "last_revision", rev);
          db.setState(object, "in_revision", nullptr);
        } else {
          db.setState(object, "in_revision", Json{{"revision", rev}, {"done", i + 1}});
        }
      });
    }
  }
  db.setState(object, "last_revision", p.head);
}

}  // namespace bb
