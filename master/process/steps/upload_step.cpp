#include "master/process/steps/upload_step.hpp"

#include <algorithm>

#include "common/event_loop.hpp"
#include "common/transfer_paths.hpp"
#include "master/process/log_writer.hpp"
#include "master/slaves/remote_slave.hpp"

namespace bb {

namespace {

constexpr std::int64_t kArchiveSlack = 1 << 20;  // tar headers around a directory's files

bool parseUploadStep(cfg::MapReader& r, cfg::MasterParse& p, StepConfig& s) {
  return readTransferKeys(r, p, s, true);
}

}  // namespace

void UploadFileStep::declareType(StepType& t) { t.config.parse = parseUploadStep; }
void UploadDirectoryStep::declareType(StepType& t) { t.config.parse = parseUploadStep; }

void UploadStep::begin() {
  const TransferOptions& o = options();
  if (auto bad = checkArtifactName(artifactName_)) return refuse(*bad);
  const std::string src = interpolate(o.path, ctx_->props);
  if (auto bad = checkTransferPath(src)) return refuse("src: " + *bad);
  const std::int64_t room = ctx_->artifacts->roomForBuild(ctx_->buildId);
  if (room <= 0)
    return refuse("this build has stored its cap of " + std::to_string(ctx_->artifacts->maxBuildBytes()) +
                  " bytes of artifacts (master.artifacts_max_build_size)");
  const std::int64_t cap = std::min(o.maxSize, room);
  limit_ = directory_ ? std::min(o.maxSize + kArchiveSlack, room) : cap;
  writer_ = ctx_->artifacts->startWrite(ctx_->builder, ctx_->number, artifactName_,
                                        ctx_->stepId ? ctx_->stepId : ctx_->buildId);
  ctx_->log.append(2, "storing artifact " + artifactName_ + " at " + writer_->finalPath() + "\n");
  Json args{{"workdir", workdir()},
            {"src", src},
            {"what", directory_ ? "directory" : "file"},
            {"max_size", cap}};
  auto self = std::static_pointer_cast<UploadStep>(shared_from_this());
  TransferHandlers h;
  h.onData = [self](std::string_view data) { self->onData(data); };
  run("upload", std::move(args), std::move(h));
}

void UploadStep::onData(std::string_view data) {
  const auto n = static_cast<std::int64_t>(data.size());
  if (writer_) {
    if (writer_->bytes() + n > limit_) {
      abort("refused: " + artifactName_ + " passed the cap of " + std::to_string(limit_) +
            " bytes; transfer stopped, nothing stored");
    } else {
      try {
        writer_->write(data);
        bytes_ += n;
      } catch (const std::exception& e) {
        abort(std::string("cannot store the artifact: ") + e.what());
      }
    }
  }
  // Stored (or dropped): the slave may send as much again.
  if (ctx_->slave) ctx_->slave->credit(cmdId_, n);
}

void UploadStep::onSuccess(const CommandOutcome& o) {
  if (!writer_) return end(Result::Failure, "nothing stored");
  const std::int64_t size = writer_->bytes();
  const std::string sha = writer_->sha256();
  const std::int64_t saidSize = o.props.value("size", std::int64_t{-1});
  const std::string saidSha = o.props.value("sha256", std::string());
  if (saidSize != size || saidSha != sha)
    return end(Result::Failure, "transfer damaged: the slave sent " + std::to_string(saidSize) + " bytes with sha256 " +
                                    saidSha + ", the master stored " + std::to_string(size) + " with sha256 " + sha);
  const int mode = options().mode >= 0 ? options().mode : 0644;
  writer_->commit(mode);
  writer_.reset();
  const std::int64_t now = wallMs(ctx_->clock) / 1000;
  ctx_->artifacts->record(
      ctx_->buildId, artifactName_, directory_ ? "directory" : "file", size, sha, mode, now);
  std::string text = "stored artifact " + artifactName_ + " (" + std::to_string(size) + " bytes, sha256 " + sha + ")";
  if (options().keep > 0) {
    const int pruned = ctx_->artifacts->prune(ctx_->builder, artifactName_, options().keep);
    if (pruned) ctx_->log.append(2, "keep " + std::to_string(options().keep) + ": deleted " +
                                        std::to_string(pruned) + " older artifact(s) " + artifactName_ + "\n");
  }
  end(Result::Success, text);
}

}  // namespace bb
