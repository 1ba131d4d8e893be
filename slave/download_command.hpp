#pragma once
// The `download` command (download_file, download_directory steps): the
// master sends an artifact in FileData chunks within a window the slave
// grants with FileCredit (512 KiB at the start, then each chunk's size once
// it is written), so neither side's memory grows with the size.
// Bytes go to a temporary file beside the destination; only a complete
// transfer whose size and SHA-256 match is renamed to the destination (a
// file) or checked member by member and extracted (a directory archive,
// slave/archive_check.hpp). Refused before anything is written: a
// destination with "..", an absolute one, one that leads out of the
// workdir through a symbolic link, a size over `max_size`.
#include <cstdint>
#include <string>

#include "common/sha256_stream.hpp"
#include "slave/command.hpp"

namespace bb {

class DownloadCommand : public RemoteCommand {
 public:
  static constexpr std::int64_t kWindow = 512 * 1024;

  // Reads args {workdir, dest, what: "file"|"directory", size, sha256,
  // mode (file permissions, e.g. 0644), max_size}; throws ProtocolError if
  // they are malformed.
  DownloadCommand(CommandContext& ctx, CommandSink& sink, std::int64_t cmdId, std::int64_t credit,
                  const Json& args);
  // Removes the temporary file or directory of an unfinished transfer.
  ~DownloadCommand() override;

  void onFileData(std::string_view data, bool eof) override;

 protected:
  void begin() override;
  void onProcessFinished(const ExitStatus&) override {}

 private:
  void complete();
  void cleanUp();

  std::string workdir_;
  std::string dest_;
  bool directory_ = false;
  std::int64_t size_ = 0;
  std::string sha256_;
  int mode_ = 0644;
  std::int64_t maxSize_ = 0;
  std::string target_;   // the real destination path
  std::string tmpFile_;  // the bytes as they arrive
  std::string tmpDir_;   // a directory being extracted
  int fd_ = -1;
  std::int64_t window_ = 0;  // bytes the master may still send
  std::int64_t received_ = 0;
  Sha256Stream sha_;
};

}  // namespace bb
