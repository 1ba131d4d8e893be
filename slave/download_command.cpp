#include "slave/download_command.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "common/transfer_paths.hpp"
#include "slave/archive_check.hpp"
#include "slave/transfer_target.hpp"
#include "slave/workdir.hpp"

namespace bb {

DownloadCommand::DownloadCommand(CommandContext& ctx, CommandSink& sink, std::int64_t cmdId,
                                 std::int64_t credit, const Json& args)
    : RemoteCommand(ctx, sink, cmdId, credit) {
  workdir_ = optString(args, "workdir").value_or("");
  dest_ = getString(args, "dest");
  const std::string what = getString(args, "what");
  if (what != "file" && what != "directory") throw ProtocolError("field 'what' must be \"file\" or \"directory\"");
  directory_ = what == "directory";
  size_ = getInt(args, "size");
  sha256_ = getString(args, "sha256");
  mode_ = static_cast<int>(optInt(args, "mode").value_or(0644));
  if (mode_ < 0 || mode_ > 0777) throw ProtocolError("field 'mode' must be 0 to 0777");
  maxSize_ = getInt(args, "max_size");
  if (size_ < 0 || maxSize_ < 0) throw ProtocolError("fields 'size' and 'max_size' must not be negative");
}

DownloadCommand::~DownloadCommand() { cleanUp(); }

void DownloadCommand::cleanUp() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  std::error_code ec;
  if (!tmpFile_.empty()) std::filesystem::remove(tmpFile_, ec);
  if (!tmpDir_.empty()) std::filesystem::remove_all(tmpDir_, ec);
  tmpFile_.clear();
  tmpDir_.clear();
}

void DownloadCommand::begin() {
  std::string error;
  auto dir = resolveWorkdir(ctx_.basedir, workdir_, error);
  if (!dir) return fail(error);
  // The caps first: nothing is created for a transfer that is refused.
  if (size_ > maxSize_)
    return fail("refused: the artifact is " + std::to_string(size_) + " bytes, over the cap of " +
                std::to_string(maxSize_) + " bytes");
  if (auto bad = checkTransferPath(dest_)) return fail("refused: " + *bad);
  auto target = prepareDestination(*dir, dest_, error);
  if (!target) return fail(error);
  target_ = *target;
  struct stat st {};
  if (::lstat(target_.c_str(), &st) == 0) {
    if (directory_ && !S_ISDIR(st.st_mode)) return fail("refused: " + dest_ + " exists and is not a directory");
    if (!directory_ && S_ISDIR(st.st_mode)) return fail("refused: " + dest_ + " exists and is a directory");
  }
  const auto slash = target_.rfind('/');
  tmpFile_ = target_.substr(0, slash + 1) + "." + target_.substr(slash + 1) + ".bbpart-" + std::to_string(id());
  fd_ = ::open(tmpFile_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd_ < 0) {
    const std::string why = std::strerror(errno);
    tmpFile_.clear();
    return fail("cannot create a temporary file beside " + dest_ + ": " + why);
  }
  header("downloading " + std::string(directory_ ? "directory " : "file ") + dest_ + " (" +
         std::to_string(size_) + " bytes, sha256 " + sha256_ + ")");
  window_ = kWindow;
  grantFileCredit(kWindow);
}

void DownloadCommand::onFileData(std::string_view data, bool eof) {
  const auto n = static_cast<std::int64_t>(data.size());
  if (n > window_)
    throw ProtocolError("FileData of " + std::to_string(n) + " bytes exceeds the window of " +
                        std::to_string(window_) + " bytes");
  if (ended() || fd_ < 0) return;  // failed already: the rest is dropped
  window_ -= n;
  if (received_ + n > size_) {
    cleanUp();
    return fail("the master sent more than the " + std::to_string(size_) + " bytes it announced");
  }
  std::size_t off = 0;
  while (off < data.size()) {
    const ssize_t w = ::write(fd_, data.data() + off, data.size() - off);
    if (w < 0) {
      if (errno == EINTR) continue;
      const std::string why = std::strerror(errno);
      cleanUp();
      return fail("cannot write " + dest_ + ": " + why);
    }
    off += static_cast<std::size_t>(w);
  }
  sha_.update(data);
  received_ += n;
  if (eof) return complete();
  if (n > 0) {
    window_ += n;
    grantFileCredit(n);
  }
}

void DownloadCommand::complete() {
  const std::string got = sha_.hexDigest();
  if (received_ != size_ || got != sha256_) {
    cleanUp();
    return fail("transfer incomplete or damaged: got " + std::to_string(received_) + " bytes with sha256 " + got +
                ", expected " + std::to_string(size_) + " bytes with sha256 " + sha256_);
  }
  if (::fsync(fd_) != 0 || ::close(fd_) != 0) {
    fd_ = -1;
    const std::string why = std::strerror(errno);
    cleanUp();
    return fail("cannot write " + dest_ + ": " + why);
  }
  fd_ = -1;
  Json props{{"size", received_}, {"sha256", got}};
  if (!directory_) {
    if (::chmod(tmpFile_.c_str(), static_cast<mode_t>(mode_)) != 0 || ::rename(tmpFile_.c_str(), target_.c_str()) != 0) {
      const std::string why = std::strerror(errno);
      cleanUp();
      return fail("cannot put " + dest_ + " in place: " + why);
    }
    tmpFile_.clear();
  } else {
    ArchiveSummary sum;
    if (auto bad = checkArchive(tmpFile_, maxSize_, sum)) {
      cleanUp();
      return fail("refused archive, nothing extracted: " + *bad);
    }
    tmpDir_ = tmpFile_ + ".d";
    if (::mkdir(tmpDir_.c_str(), 0755) != 0) {
      const std::string why = std::strerror(errno);
      tmpDir_.clear();
      cleanUp();
      return fail("cannot create a directory beside " + dest_ + ": " + why);
    }
    if (auto bad = extractArchive(tmpFile_, tmpDir_)) {
      cleanUp();
      return fail(*bad);
    }
    // Swap: the old directory (from an earlier build) goes, the new one
    // takes its name.
    std::error_code ec;
    const std::string old = tmpFile_ + ".old";
    struct stat st {};
    if (::lstat(target_.c_str(), &st) == 0 && ::rename(target_.c_str(), old.c_str()) != 0) {
      const std::string why = std::strerror(errno);
      cleanUp();
      return fail("cannot replace " + dest_ + ": " + why);
    }
    if (::rename(tmpDir_.c_str(), target_.c_str()) != 0) {
      const std::string why = std::strerror(errno);
      cleanUp();
      return fail("cannot put " + dest_ + " in place: " + why);
    }
    tmpDir_.clear();
    std::filesystem::remove_all(old, ec);
    props["files"] = sum.files;
    props["content_bytes"] = sum.bytes;
    header("extracted " + std::to_string(sum.files) + " files (" + std::to_string(sum.bytes) + " bytes) into " + dest_);
    cleanUp();
  }
  header("downloaded " + std::to_string(received_) + " bytes, sha256 " + got);
  ExitStatus ok;
  ok.exitCode = 0;
  finish(ok, std::move(props));
}

}  // namespace bb
