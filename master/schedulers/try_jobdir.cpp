#include "master/schedulers/try_jobdir.hpp"

#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <vector>

#include "config/yaml_util.hpp"
#include "master/db/database.hpp"
#include "master/schedulers/scheduler_type.hpp"

namespace bb {

namespace fs = std::filesystem;

namespace {

bool checkJobdirKeys(const cfg::MapReader& r, cfg::MasterParse&, SchedulerEntry&) {
  bool ok = true;
  auto dir = r.string("jobdir", true);
  if (!dir) ok = false;
  else if (dir->empty()) {
    r.error(r.markOf("jobdir"), "jobdir must name a directory");
    ok = false;
  }
  if (r.has("poll_interval") && !r.integer("poll_interval", 1, 3600)) ok = false;
  if (r.has("max_patch_bytes") && !r.integer("max_patch_bytes", 1, TryScheduler::kMaxMaxPatch))
    ok = false;
  return ok;
}

}  // namespace

void TryJobdirScheduler::declareType(SchedulerType& t) {
  t.config.keys = {"jobdir", "poll_interval", "max_patch_bytes"};
  t.config.check = checkJobdirKeys;
}

TryJobdirScheduler::TryJobdirScheduler(SchedulerEntry cfg, SchedulerContext ctx)
    : TryScheduler(std::move(cfg), ctx), more_(ctx_.clock.makeTimer()) {
  fs::path dir = cfg_.extra.value("jobdir", std::string());
  if (dir.is_relative() && !ctx_.masterDir.empty()) dir = fs::path(ctx_.masterDir) / dir;
  jobdir_ = dir.lexically_normal().string();
  if (auto it = cfg_.extra.find("poll_interval"); it != cfg_.extra.end() && it->is_number_integer())
    pollInterval_ = std::chrono::seconds(it->get<int>());
}

void TryJobdirScheduler::start() {
  stopped_ = false;
  for (const char* sub : {"tmp", "new", "cur", "bad"}) {
    std::error_code ec;
    fs::create_directories(fs::path(jobdir_) / sub, ec);
    if (ec) {
      fail("creating the job directory", std::runtime_error("cannot create " + jobdir_ + "/" + sub +
                                                             ": " + ec.message()));
      return;
    }
  }
  watch_ = std::make_unique<DirWatch>(ctx_.io, ctx_.clock, jobdir_ + "/new", pollInterval_,
                                      guarded("reading the job directory", [this] { scan(); }));
  spdlog::info("scheduler {}: taking try jobs from {}/new ({})", cfg_.name, jobdir_, watch_->mode());
  guarded("reading the job directory", [this] { scan(); })();
}

void TryJobdirScheduler::stop() {
  stopped_ = true;
  watch_.reset();
  more_->cancel();
}

Json TryJobdirScheduler::describe() const {
  Json d = TryScheduler::describe();
  d["jobdir"] = jobdir_;
  d["watch"] = watch_ ? watch_->mode() : "stopped";
  return d;
}

void TryJobdirScheduler::scan() {
  if (stopped_) return;
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(fs::path(jobdir_) / "new", ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!name.empty() && name[0] != '.') names.push_back(name);
  }
  if (ec) throw std::runtime_error("cannot list " + jobdir_ + "/new: " + ec.message());
  std::sort(names.begin(), names.end());
  const bool more = names.size() > static_cast<std::size_t>(kJobsPerTurn);
  if (more) names.resize(kJobsPerTurn);
  for (const auto& name : names) handleJob(name);
  if (more && !more_->pending())
    more_->start(std::chrono::milliseconds(0), guarded("reading the job directory", [this] { scan(); }));
}

bool TryJobdirScheduler::moveTo(const std::string& name, const char* sub) {
  std::error_code ec;
  fs::rename(fs::path(jobdir_) / "new" / name, fs::path(jobdir_) / sub / name, ec);
  if (ec) spdlog::error("scheduler {}: cannot move job file {} to {}/: {}", cfg_.name, name, sub, ec.message());
  return !ec;
}

void TryJobdirScheduler::moveToBad(const std::string& name, const std::string& why) {
  ++refused_;
  spdlog::warn("scheduler {}: bad try job {}: {}; moved to {}/bad/", cfg_.name, name, why, jobdir_);
  std::ofstream(fs::path(jobdir_) / "bad" / (name + ".reason")) << why << "\n";
  moveTo(name, "bad");
}

void TryJobdirScheduler::handleJob(const std::string& name) {
  const fs::path file = fs::path(jobdir_) / "new" / name;
  struct stat st {};
  if (::lstat(file.c_str(), &st) != 0) return;  // gone already
  if (!S_ISREG(st.st_mode)) return moveToBad(name, "not a regular file");
  // Headers and a netstring's framing on top of the patch.
  const std::int64_t limit = maxPatch_ * 4 / 3 + 64 * 1024;
  if (st.st_size > limit)
    return moveToBad(name, "the job file is " + std::to_string(st.st_size) +
                               " bytes; this scheduler takes patches up to max_patch_bytes (" +
                               std::to_string(maxPatch_) + ")");
  std::ifstream in(file, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  if (!in && !in.eof()) throw std::runtime_error("cannot read job file " + file.string());
  TryJob job;
  try {
    job = parseAnyTryJob(text);
  } catch (const TryJobError& e) {
    return moveToBad(name, e.what());
  }
  if (const std::int64_t dup = duplicateOf(job.jobId)) {
    spdlog::info("scheduler {}: try job {} ({}) already has buildset {}; not building it again",
                 cfg_.name, job.jobId, name, dup);
    moveTo(name, "cur");
    return;
  }
  NewBuildset made;
  try {
    made = submit(job, "job directory");
  } catch (const TryRefused& e) {
    --refused_;  // moveToBad counts it
    return moveToBad(name, e.what());
  }
  spdlog::info("scheduler {}: try job {} ({}, {} patch bytes, from {}) is buildset {}", cfg_.name,
               job.jobId, job.format, job.patch.size(), job.who.empty() ? "?" : job.who, made.id);
  if (const char* hook = std::getenv(kKillAfterCommitEnv); hook && std::string(hook) == "1")
    ::kill(::getpid(), SIGKILL);
  moveTo(name, "cur");
}

}  // namespace bb
