#include "slave/upload_command.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "slave/directory_archive.hpp"
#include "slave/transfer_target.hpp"
#include "slave/workdir.hpp"

namespace bb {

UploadCommand::UploadCommand(CommandContext& ctx, CommandSink& sink, std::int64_t cmdId,
                             std::int64_t credit, const Json& args)
    : RemoteCommand(ctx, sink, cmdId, credit) {
  workdir_ = optString(args, "workdir").value_or("");
  src_ = getString(args, "src");
  const std::string what = getString(args, "what");
  if (what != "file" && what != "directory") throw ProtocolError("field 'what' must be \"file\" or \"directory\"");
  directory_ = what == "directory";
  maxSize_ = getInt(args, "max_size");
  if (maxSize_ < 0) throw ProtocolError("field 'max_size' must not be negative");
}

UploadCommand::~UploadCommand() {
  if (fd_ >= 0) ::close(fd_);
}

void UploadCommand::begin() {
  std::string error;
  auto dir = resolveWorkdir(ctx_.basedir, workdir_, error);
  if (!dir) return fail(error);
  auto real = resolveSource(*dir, src_, error);
  if (!real) return fail(error);
  struct stat st {};
  if (::stat(real->c_str(), &st) != 0) return fail("cannot stat " + src_ + ": " + std::strerror(errno));
  if (directory_) {
    if (!S_ISDIR(st.st_mode)) return fail("refused: " + src_ + " is not a directory");
    dir_ = std::make_unique<DirectoryArchive>();
    if (!dir_->open(*real, maxSize_, error)) return fail(error);
    started_ = true;  // header() flushes, which calls onWindow()
    header("uploading directory " + src_ + " (" + std::to_string(dir_->files()) + " files, " +
           std::to_string(dir_->bytes()) + " bytes) as a tar stream (zstd)");
  } else {
    if (!S_ISREG(st.st_mode)) return fail("refused: " + src_ + " is not a regular file (a device, fifo, socket or directory)");
    if (st.st_size > maxSize_)
      return fail("refused: " + src_ + " is " + std::to_string(st.st_size) + " bytes, over the cap of " +
                  std::to_string(maxSize_) + " bytes");
    fd_ = ::open(real->c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) return fail("cannot open " + src_ + ": " + std::strerror(errno));
    fileSize_ = st.st_size;
    started_ = true;
    header("uploading file " + src_ + " (" + std::to_string(fileSize_) + " bytes)");
  }
}

bool UploadCommand::produce() {
  if (dir_) return dir_->more(buf_, kMaxChunk);
  char chunk[kMaxChunk];
  const ssize_t n = ::read(fd_, chunk, sizeof chunk);
  if (n < 0) throw std::runtime_error("cannot read " + src_ + ": " + std::strerror(errno));
  if (n == 0) return false;
  if (sent_ + static_cast<std::int64_t>(buf_.size()) + n > maxSize_)
    throw std::runtime_error(src_ + " grew past the cap of " + std::to_string(maxSize_) + " bytes while it was being uploaded");
  buf_.append(chunk, static_cast<std::size_t>(n));
  return true;
}

void UploadCommand::onWindow() {
  if (!started_ || ended() || detached()) return;
  try {
    for (;;) {
      const std::size_t room = dataAllowance();
      if (room == 0) return;  // the next Credit calls us again
      if (bufPos_ == buf_.size()) {
        buf_.clear();
        bufPos_ = 0;
        if (eof_ || !produce()) {
          eof_ = true;
          if (buf_.empty()) break;
        }
        continue;
      }
      const std::size_t n = std::min(room, buf_.size() - bufPos_);
      const std::string_view piece(buf_.data() + bufPos_, n);
      sha_.update(piece);
      sent_ += static_cast<std::int64_t>(n);
      bufPos_ += n;
      sendData(piece);
    }
  } catch (const std::exception& e) {
    return fail(e.what());
  }
  Json props{{"size", sent_}, {"sha256", sha_.hexDigest()}};
  if (dir_) {
    props["files"] = dir_->files();
    props["content_bytes"] = dir_->bytes();
  }
  header("uploaded " + std::to_string(sent_) + " bytes, sha256 " + props["sha256"].get<std::string>());
  ExitStatus ok;
  ok.exitCode = 0;
  finish(ok, std::move(props));
}

}  // namespace bb
