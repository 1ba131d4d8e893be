#include "tests/functional/vcs_support.hpp"

#include <stdexcept>
#include "common/trim.hpp"

namespace bb::test {

namespace {

std::string must(std::vector<std::string> argv, const std::string& cwd) {
  auto r = run(argv, cwd, {{"HGPLAIN", "1"}, {"LC_ALL", "C"}});
  if (r.rc != 0) throw std::runtime_error(argv[0] + " " + argv[1] + " failed: " + r.describe());
  return r.out;
}

}  // namespace

void HgRepo::init() { must({"hg", "init", dir_}, ""); }

std::string HgRepo::hg(std::vector<std::string> args) const {
  args.insert(args.begin(), "hg");
  return must(args, dir_);
}

std::string HgRepo::commit(const std::string& file, const std::string& content,
                           const std::string& message, const std::string& user) {
  const bool existed = fileExists(dir_ + "/" + file);
  writeFile(dir_ + "/" + file, content);
  if (!existed) hg({"add", "--", file});
  hg({"commit", "-u", user, "-m", message});
  return trimEnd(hg({"log", "-r", ".", "-T", "{node}"}));
}

void HgRepo::branch(const std::string& name) { hg({"branch", "--", name}); }

void HgRepo::update(const std::string& rev) { hg({"update", "--clean", "-r", rev}); }

void SvnRepo::create() {
  must({"mkdir", "-p", dir_}, "");
  must({"svnadmin", "create", dir_ + "/repo"}, "");
  must({"svn", "mkdir", "-q", "-m", "layout", url() + "/trunk", url() + "/branches", url() + "/tags"},
       "");
  must({"svn", "checkout", "-q", url(), dir_ + "/wc"}, "");
}

std::string SvnRepo::svn(std::vector<std::string> args) const {
  args.insert(args.begin(), "svn");
  return must(args, dir_ + "/wc");
}

std::string SvnRepo::commit(const std::string& path, const std::string& content,
                            const std::string& message, const std::string& user) {
  svn({"update", "-q"});
  const std::string file = dir_ + "/wc/" + path;
  const bool existed = fileExists(file);
  writeFile(file, content);
  if (!existed) svn({"add", "-q", "--parents", "--", path});
  svn({"commit", "-q", "--username", user, "-m", message});
  return trimEnd(must({"svnlook", "youngest", dir_ + "/repo"}, ""));
}

std::string SvnRepo::branchFromTrunk(const std::string& name) {
  must({"svn", "copy", "-q", "-m", "branch " + name, url() + "/trunk", url() + "/branches/" + name},
       "");
  svn({"update", "-q"});
  return trimEnd(must({"svnlook", "youngest", dir_ + "/repo"}, ""));
}

std::string VcsEnv::yaml(const std::string& builders, const std::vector<std::string>& names,
                         const std::string& extra) const {
  static const std::string v = makeVerifier("pw");
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
  return "master: {name: vcs, slave_port: " + std::to_string(master.port()) +
         ", database: \"sqlite:state.sqlite\"}\n"
         "slaves: [{name: s1, password: " + q(v) + "}]\n"
         "users: [{name: alice, password: " + q(v) + ", may: [sendchange, force, status, try]}]\n"
         "builders:\n" + builders +
         "schedulers:\n"
         "  - {name: force, type: force, builders: [" + list + "]}\n" + extra;
}

void VcsEnv::up(const std::string& yaml, const std::map<std::string, std::string>& slaveEnv) {
  master.create();
  master.writeConfig(yaml);
  master.setAuth("alice", "pw");
  master.start();
  slave.create();
  slave.start(slaveEnv);
  if (!master.waitForLog("slave s1 connected")) throw std::runtime_error(master.log());
}

std::string VcsEnv::force(const std::string& builder, int number, const std::string& branch,
                          const std::string& revision) {
  std::vector<std::string> args{"force", "--scheduler", "force", "--builder", builder};
  if (!branch.empty()) args.insert(args.end(), {"--branch", branch});
  if (!revision.empty()) args.insert(args.end(), {"--revision", revision});
  auto r = master.client(args);
  if (r.rc != 0) throw std::runtime_error("force failed: " + r.describe());
  const std::string sql = "SELECT result FROM builds WHERE finished=1 AND builder='" + builder +
                          "' AND number=" + std::to_string(number);
  std::string result;
  waitFor(
      [&] {
        auto rows = sqlite(master.dbPath(), sql);
        if (rows.empty()) return false;
        result = rows[0][0];
        return true;
      },
      60s);
  return result;
}

std::string VcsEnv::logs(const std::string& builder, int number) const {
  auto r = master.client({"status", "--builder", builder, "--build", std::to_string(number), "--logs"});
  return r.out + r.err;
}

std::string VcsEnv::properties(const std::string& builder, int number) const {
  auto rows = sqlite(master.dbPath(), "SELECT properties FROM builds WHERE builder='" + builder +
                                          "' AND number=" + std::to_string(number));
  return rows.empty() ? "" : rows[0][0];
}

Json VcsEnv::changeSource(const std::string& name) const {
  auto r = master.client({"status", "--json"});
  if (r.rc != 0) return nullptr;
  for (const auto& s : Json::parse(r.out).value("change_sources", Json::array()))
    if (s.value("name", "") == name) return s;
  return nullptr;
}

bool VcsEnv::waitPolls(const std::string& name, int more) const {
  auto finished = [&] {
    Json s = changeSource(name);
    if (s.is_null()) return std::int64_t{-1};
    return s.value("polls", std::int64_t{0}) - (s.value("polling", false) ? 1 : 0);
  };
  const std::int64_t target = finished() + more;
  return waitFor([&] { return finished() >= target; }, 30s, 200ms);
}

}  // namespace bb::test
