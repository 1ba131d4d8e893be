#pragma once
// The `upload` command (upload_file, upload_directory steps): sends a file,
// or a directory as a zstd-compressed tar stream, from the step's workdir
// to the master as Output on the data stream (3), within the same credit
// window as log output, so neither side's memory grows with the size.
// Refused before a byte is sent (CommandDone `error`, a header line): a
// path with "..", an absolute path, a source that leads out of the workdir
// through a symbolic link, a device or other non-regular file, a size
// over `max_size`; for a directory also what DirectoryArchive refuses.
// CommandDone props: {size, sha256} of the bytes sent, and for a
// directory {files, content_bytes}.
#include <memory>
#include <string>

#include "common/sha256_stream.hpp"
#include "slave/command.hpp"

namespace bb {

class DirectoryArchive;

class UploadCommand : public RemoteCommand {
 public:
  // Reads args {workdir, src, what: "file"|"directory", max_size};
  // throws ProtocolError if they are malformed.
  UploadCommand(CommandContext& ctx, CommandSink& sink, std::int64_t cmdId, std::int64_t credit,
                const Json& args);
  ~UploadCommand() override;

 protected:
  void begin() override;
  void onProcessFinished(const ExitStatus&) override {}
  void onWindow() override;

 private:
  // Appends the next bytes to buf_; false at the end.
  bool produce();

  std::string workdir_;
  std::string src_;
  bool directory_ = false;
  std::int64_t maxSize_ = 0;
  int fd_ = -1;
  std::int64_t fileSize_ = 0;
  std::unique_ptr<DirectoryArchive> dir_;
  std::string buf_;
  std::size_t bufPos_ = 0;
  bool eof_ = false;
  bool started_ = false;
  std::int64_t sent_ = 0;
  Sha256Stream sha_;
};

}  // namespace bb
