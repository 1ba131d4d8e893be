#include "tests/functional/classic_vcs.hpp"

#include <stdexcept>

#include "tests/functional/harness.hpp"
#include "common/trim.hpp"

namespace bb::test {

std::string vcsMust(const std::vector<std::string>& argv, const std::string& cwd,
                    const std::string& home) {
  auto r = run(argv, cwd,
               {{"HOME", home}, {"LC_ALL", "C"}, {"BRZ_EMAIL", "Test <test@example.org>"},
                {"DARCS_EMAIL", "Test <test@example.org>"}, {"BRZ_PROGRESS_BAR", "none"}});
  if (r.rc != 0) {
    std::string cmd;
    for (const auto& a : argv) cmd += a + " ";
    throw std::runtime_error(cmd + "failed: " + r.describe());
  }
  return r.out;
}

void DarcsRepo::create(const std::string& branch) {
  vcsMust({"mkdir", "-p", base_ + "/" + branch}, "", home_);
  vcsMust({"darcs", "init", "--quiet"}, base_ + "/" + branch, home_);
}

void DarcsRepo::fork(const std::string& from, const std::string& branch) {
  vcsMust({"darcs", "clone", "--quiet", "--", base_ + "/" + from, base_ + "/" + branch}, "", home_);
}

std::string DarcsRepo::commit(const std::string& branch, const std::string& file,
                              const std::string& content, const std::string& message,
                              const std::string& author) {
  const std::string dir = base_ + "/" + branch;
  writeFile(dir + "/" + file, content);
  // A message of several lines: its first is the patch name, the rest the
  // long comment (darcs takes those from a file only).
  writeFile(home_ + "/darcs-message", message + "\n");
  vcsMust({"darcs", "record", "--all", "--look-for-adds", "--quiet", "--logfile", home_ + "/darcs-message",
           "-A", author},
          dir, home_);
  const std::string log = vcsMust({"darcs", "log", "--last=1"}, dir, home_);
  return trimEnd(log.substr(6, log.find('\n') - 6));
}

void BrzRepo::create(const std::string& firstBranch) {
  vcsMust({"brz", "init-shared-repo", "--quiet", base_}, "", home_);
  vcsMust({"brz", "init", "--quiet", base_ + "/" + firstBranch}, "", home_);
}

void BrzRepo::fork(const std::string& from, const std::string& branch) {
  vcsMust({"brz", "branch", "--quiet", base_ + "/" + from, base_ + "/" + branch}, "", home_);
}

std::string BrzRepo::commit(const std::string& branch, const std::string& file,
                            const std::string& content, const std::string& message,
                            const std::string& author) {
  const std::string dir = base_ + "/" + branch;
  writeFile(dir + "/" + file, content);
  vcsMust({"brz", "add", "--quiet"}, dir, home_);
  vcsMust({"brz", "commit", "--quiet", "-m", message, "--author", author}, dir, home_);
  const std::string info = trimEnd(vcsMust({"brz", "revision-info"}, dir, home_));
  return info.substr(info.find(' ') + 1);
}

std::string BrzRepo::revno(const std::string& branch) const {
  return trimEnd(vcsMust({"brz", "revno"}, base_ + "/" + branch, home_));
}

void CvsRepo::create() {
  vcsMust({"mkdir", "-p", dir_ + "/import"}, "", home_);
  vcsMust({"cvs", "-Q", "-d", root(), "init"}, "", home_);
  writeFile(dir_ + "/import/a.txt", "one\n");
  vcsMust({"cvs", "-Q", "-d", root(), "import", "-m", "start", "app", "vendor", "start"},
          dir_ + "/import", home_);
  vcsMust({"cvs", "-Q", "-d", root(), "checkout", "-d", "wc-HEAD", "app"}, dir_, home_);
}

std::string CvsRepo::cvs(std::vector<std::string> args, const std::string& branch) const {
  args.insert(args.begin(), {"cvs", "-Q"});
  return vcsMust(args, wc(branch), home_);
}

void CvsRepo::branch(const std::string& name) {
  cvs({"tag", "-b", name}, "HEAD");
  vcsMust({"cvs", "-Q", "-d", root(), "checkout", "-r", name, "-d", "wc-" + name, "app"}, dir_, home_);
}

void CvsRepo::commit(const std::string& branch, const std::string& file, const std::string& content,
                     const std::string& message) {
  const bool existed = fileExists(wc(branch) + "/" + file);
  writeFile(wc(branch) + "/" + file, content);
  if (!existed) cvs({"add", file}, branch);
  cvs({"commit", "-m", message}, branch);
}

std::string TlaRepo::tla(std::vector<std::string> args, const std::string& cwd) const {
  args.insert(args.begin(), "tla");
  return vcsMust(args, cwd, home_);
}

void TlaRepo::create() {
  vcsMust({"mkdir", "-p", home_, tree("main")}, "", home_);
  tla({"my-id", "Alice <alice@example.org>"}, "");
  tla({"make-archive", kArchive, location()}, "");
  const std::string version = std::string(kArchive) + "/app--main--1.0";
  tla({"archive-setup", version}, "");
  tla({"init-tree", version}, tree("main"));
  writeFile(tree("main") + "/a.txt", "one\n");
  tla({"add", "a.txt"}, tree("main"));
  tla({"import", "-L", "start"}, tree("main"));
}

void TlaRepo::branch(const std::string& name) {
  const std::string a = kArchive;
  tla({"tag", a + "/app--main--1.0", a + "/app--" + name + "--1.0"}, "");
  tla({"get", "--silent", a + "/app--" + name + "--1.0", tree(name)}, "");
}

std::string TlaRepo::commit(const std::string& branch, const std::string& file,
                            const std::string& content, const std::string& message) {
  const bool existed = fileExists(tree(branch) + "/" + file);
  writeFile(tree(branch) + "/" + file, content);
  if (!existed) tla({"add", file}, tree(branch));
  tla({"commit", "-L", message}, tree(branch));
  const std::string logs = tla({"logs", "--reverse"}, tree(branch));
  return trimEnd(logs.substr(0, logs.find('\n')));
}

}  // namespace bb::test
