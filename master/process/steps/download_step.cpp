#include "master/process/steps/download_step.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/transfer_paths.hpp"
#include "master/artifacts/artifact_store.hpp"
#include "master/db/database.hpp"
#include "master/process/log_writer.hpp"
#include "master/slaves/remote_slave.hpp"
#include "master/status/views.hpp"

namespace bb {

namespace {

bool parseDownloadStep(cfg::MapReader& r, cfg::MasterParse& p, StepConfig& s) {
  return readTransferKeys(r, p, s, false);
}

}  // namespace

void DownloadFileStep::declareType(StepType& t) { t.config.parse = parseDownloadStep; }
void DownloadDirectoryStep::declareType(StepType& t) { t.config.parse = parseDownloadStep; }

DownloadStep::~DownloadStep() { release(); }

void DownloadStep::release() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void DownloadStep::begin() {
  const TransferOptions& o = options();
  if (auto bad = checkArtifactName(artifactName_)) return refuse(*bad);
  const std::string dest = interpolate(o.path, ctx_->props);
  if (auto bad = checkTransferPath(dest)) return refuse("dest: " + *bad);
  std::int64_t buildId = ctx_->buildId;
  if (!o.fromBuilder.empty()) {
    std::string why;
    auto up = upstreamBuild(o.fromBuilder, why);
    if (!up) return refuse(why);
    buildId = up->id;
  } else if (!o.build.empty()) {
    const std::string b = interpolate(o.build, ctx_->props);
    char* end = nullptr;
    const long long v = std::strtoll(b.c_str(), &end, 10);
    if (b.empty() || *end != '\0' || v <= 0) return refuse("build '" + b + "' is not a build id");
    buildId = v;
  }
  auto rec = ctx_->db.getArtifact(buildId, artifactName_);
  if (!rec) return refuse("build " + std::to_string(buildId) + " has no artifact " + artifactName_);
  if (rec->removedAt)
    return refuse("artifact " + artifactName_ + " of " + rec->builder + " #" + std::to_string(rec->number) +
                  " was " + retentionRemovalText(rec->removedAt, rec->removedBy));
  const std::string want = directory_ ? "directory" : "file";
  if (rec->kind != want)
    return refuse("artifact " + artifactName_ + " of build " + std::to_string(buildId) + " is a " + rec->kind +
                  ", not a " + want);
  if (rec->size > o.maxSize)
    return refuse("artifact " + artifactName_ + " is " + std::to_string(rec->size) + " bytes, over the cap of " +
                  std::to_string(o.maxSize) + " bytes");
  const std::string path = ctx_->artifacts->pathOf(*rec);
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) return end(Result::Exception, "cannot read artifact " + path + ": " + std::strerror(errno));
  size_ = rec->size;
  ctx_->log.append(2, "sending artifact " + artifactName_ + " of " + rec->builder + " #" +
                          std::to_string(rec->number) + " (" + std::to_string(rec->size) + " bytes, sha256 " +
                          rec->sha256 + ")\n");
  Json args{{"workdir", workdir()},
            {"dest", dest},
            {"what", want},
            {"size", rec->size},
            {"sha256", rec->sha256},
            {"mode", o.mode >= 0 ? o.mode : rec->mode},
            {"max_size", o.maxSize}};
  auto self = std::static_pointer_cast<DownloadStep>(shared_from_this());
  TransferHandlers h;
  h.onFileCredit = [self](std::int64_t bytes) { self->onFileCredit(bytes); };
  run("download", std::move(args), std::move(h));
}

std::optional<db::BuildRecord> DownloadStep::upstreamBuild(const std::string& builder, std::string& why) {
  // The upstream BuildSet: the one a dependent scheduler followed, else the
  // one of the build whose trigger step started this build (its own build
  // is in it, so `builder:` may name the triggering builder itself).
  std::int64_t buildset = 0;
  auto propId = [&](const char* name) -> std::int64_t {
    const Json* v = ctx_->props.get(name);
    return v && v->is_number_integer() ? v->get<std::int64_t>() : 0;
  };
  if (const std::int64_t up = propId("upstream_buildset_id")) {
    buildset = up;
  } else if (const std::int64_t parent = propId("parent_build_id")) {
    const auto pb = ctx_->db.getBuild(parent);
    const auto req = pb ? ctx_->db.getRequest(pb->requestId) : std::nullopt;
    if (req) buildset = req->buildsetId;
  }
  if (!buildset) {
    why = "builder: " + builder + " names an upstream build, but this build has none (it was not started by a "
          "dependent scheduler or a trigger step)";
    return std::nullopt;
  }
  auto b = ctx_->db.buildOfBuildset(buildset, builder);
  if (!b) why = "upstream buildset " + std::to_string(buildset) + " has no build of " + builder;
  return b;
}

void DownloadStep::onFileCredit(std::int64_t bytes) {
  window_ += bytes;
  char buf[RemoteSlave::kMaxOutputChunk];
  while (fd_ >= 0 && !eofSent_ && (window_ > 0 || bytes_ == size_)) {
    const auto want = static_cast<std::size_t>(
        std::min<std::int64_t>({window_, static_cast<std::int64_t>(sizeof buf), size_ - bytes_}));
    ssize_t n = want ? ::read(fd_, buf, want) : 0;
    if (n < 0) return abort(std::string("cannot read the artifact: ") + std::strerror(errno));
    bytes_ += n;
    window_ -= n;
    // A file shorter than recorded ends early; the slave's check fails it.
    const bool eof = bytes_ == size_ || (n == 0 && want > 0);
    if (!ctx_->slave || !ctx_->slave->sendFileData(cmdId_, std::string_view(buf, static_cast<std::size_t>(n)), eof))
      return;
    if (eof) eofSent_ = true;
  }
}

void DownloadStep::onSuccess(const CommandOutcome& o) {
  std::string text = "downloaded " + artifactName_ + " (" + std::to_string(bytes_) + " bytes)";
  if (directory_) text += ", " + std::to_string(o.props.value("files", std::int64_t{0})) + " files";
  end(Result::Success, text);
}

}  // namespace bb
