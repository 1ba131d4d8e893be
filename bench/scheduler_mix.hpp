#pragma once
// The change mix and the 20 schedulers of the scheduler benchmarks
// (scheduler_bench in one process, scheduler_master_bench through a real
// buildmaster), so both route the same load.
#include <cstddef>
#include <cstdint>
#include <string>

#include "master/db/records.hpp"

namespace bb::bench {

// A valid verifier (password "demo-pass"); the bench never logs a slave in.
inline const std::string kVerifier =
    "scram-sha-256$4096:jzwqG559bFtKOSgXBvXk0w==$boSQpzCFRq7cFLxuYGXv34BJTp1H+ylYWCywkmSQW6Y=:"
    "n1kDKwVlyOLCLPpIJMRXOnMcHuZHD6YElc3odZuRmgU=";

// The 20 schedulers: single_branch with and without tree-stable timers,
// any_branch, file filters, branch/pattern/repository/project/category
// filters, and nightly only_if_changed. Loaded through the real parser.
inline const char* kSchedulers = R"(
  - { name: sb-main, type: single_branch, branch: main, builders: [b1] }
  - { name: sb-main-stable, type: single_branch, branch: main, tree_stable_timer: 60, builders: [b1, b2] }
  - { name: sb-main-src, type: single_branch, branch: main, tree_stable_timer: 30, files: { include: ["src/**"], exclude: ["src/docs/**"] }, builders: [b2] }
  - { name: sb-main-important, type: single_branch, branch: main, files: { include: ["src/**"] }, only_important: true, builders: [b3] }
  - { name: sb-release, type: single_branch, branch_pattern: "release/*", tree_stable_timer: 120, builders: [b1] }
  - { name: sb-dev-app, type: single_branch, branch: dev, project: app, builders: [b1] }
  - { name: sb-main-web, type: single_branch, branch: main, project: web, repository: "https://git.example.com/web*", tree_stable_timer: 300, builders: [b2] }
  - { name: sb-main-ci, type: single_branch, branch: main, category: ci, tree_stable_timer: 45, builders: [b3] }
  - { name: sb-lib, type: single_branch, branch: main, project: lib, tree_stable_timer: 20, builders: [b1] }
  - { name: sb-hotfix, type: single_branch, branch_pattern: ["hotfix/*", "release/*"], category: ci, builders: [b2] }
  - { name: ab-all, type: any_branch, tree_stable_timer: 60, builders: [b1] }
  - { name: ab-release, type: any_branch, branches: ["release/*"], builders: [b2] }
  - { name: ab-feature, type: any_branch, branch_pattern: "feature/**", tree_stable_timer: 90, files: { include: ["src/**"] }, builders: [b3] }
  - { name: ab-app-ci, type: any_branch, project: app, category: [ci, "release-*"], tree_stable_timer: 30, builders: [b1] }
  - { name: ab-web-tests, type: any_branch, repository: "https://git.example.com/web.git", files: { include: ["tests/**"] }, only_important: true, builders: [b2] }
  - { name: ab-docs, type: any_branch, files: { include: ["docs/**"] }, only_important: true, tree_stable_timer: 600, builders: [b3] }
  - { name: ab-none, type: any_branch, project: nosuch, builders: [b1] }
  - { name: nightly-main, type: nightly, cron: "0 * * * *", only_if_changed: true, branch: main, builders: [b1, b2, b3] }
  - { name: nightly-app, type: nightly, cron: "30 */2 * * *", only_if_changed: true, project: app, files: { include: ["src/**"] }, builders: [b1] }
  - { name: nightly-release, type: nightly, cron: "0 3 * * *", only_if_changed: true, branch_pattern: "release/*", builders: [b2] }
)";

// A deterministic stream of varied changes (xorshift, fixed seed).
class ChangeMaker {
 public:
  db::ChangeRecord next() {
    static const char* kBranches[] = {"main", "main", "main", "main", "dev", "dev",
                                      "release/1.x", "release/2.x", "hotfix/42",
                                      "feature/a", "feature/b/c", "topic"};
    static const char* kRepos[] = {"https://git.example.com/app.git", "https://git.example.com/app.git",
                                   "https://git.example.com/web.git", "https://git.example.com/lib.git"};
    static const char* kProjects[] = {"app", "app", "web", "lib"};
    static const char* kCategories[] = {"ci", "ci", "docs", "release-1", ""};
    static const char* kFiles[] = {"src/main.c", "src/net/io.c", "src/docs/x.md", "docs/guide.md",
                                   "tests/test_io.c", "README.md", "build/CMakeLists.txt"};
    db::ChangeRecord c;
    const std::size_t repo = pick(4);
    c.author = "dev" + std::to_string(pick(50));
    c.comments = "change " + std::to_string(++n_);
    c.branch = kBranches[pick(12)];
    c.revision = std::to_string(n_) + "abcdef0123456789abcdef0123456789abcdef";
    c.repository = kRepos[repo];
    c.project = kProjects[repo];
    c.category = kCategories[pick(5)];
    c.source = "sendchange";
    c.when = 1'700'000'000 + static_cast<std::int64_t>(n_);
    const std::size_t nFiles = 1 + pick(3);
    for (std::size_t i = 0; i < nFiles; ++i) c.files.push_back(kFiles[pick(7)]);
    return c;
  }

 private:
  std::size_t pick(std::size_t n) {
    state_ ^= state_ << 13;
    state_ ^= state_ >> 7;
    state_ ^= state_ << 17;
    return static_cast<std::size_t>(state_ % n);
  }
  std::uint64_t state_ = 0x9E3779B97F4A7C15ull;
  std::uint64_t n_ = 0;
};

}  // namespace bb::bench
