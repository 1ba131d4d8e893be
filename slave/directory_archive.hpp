#pragma once
// An upload_directory's bytes: the directory as a tar stream (pax),
// compressed with zstd, produced piece by piece as the upload's window
// allows, so memory stays bounded whatever the directory's size.
// open() first walks the whole tree and refuses, before a byte is sent, a
// device, fifo or socket, a symbolic link whose target is absolute or
// leaves the directory, and a total of file sizes over the cap.
#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

struct archive;

namespace bb {

class DirectoryArchive {
 public:
  DirectoryArchive();
  ~DirectoryArchive();
  DirectoryArchive(const DirectoryArchive&) = delete;
  DirectoryArchive& operator=(const DirectoryArchive&) = delete;

  // Walks `root` (a real directory path). False with `error` for what the
  // header comment lists.
  bool open(const std::string& root, std::int64_t maxBytes, std::string& error);
  // Appends the next compressed bytes to `out` (about `max` or less; it
  // may append nothing while the compressor buffers). Returns false once
  // everything was appended. Throws std::runtime_error when a file cannot
  // be read or changed size.
  bool more(std::string& out, std::size_t max);

  std::int64_t files() const { return files_; }
  std::int64_t bytes() const { return bytes_; }

 private:
  struct Member {
    std::string rel;   // path inside the directory
    char type;         // 'f' file, 'd' directory, 'l' link
    std::int64_t size;
    unsigned mode;
    std::int64_t mtime;
    std::string target;  // link target
  };
  void writeHeader(const Member& m);
  static ssize_t onWrite(archive* a, void* self, const void* buf, std::size_t n);

  std::string root_;
  std::vector<Member> members_;
  std::size_t next_ = 0;
  int fd_ = -1;               // the file member being read
  std::int64_t fileLeft_ = 0;
  archive* a_ = nullptr;
  std::string* sink_ = nullptr;  // where the write callback appends
  bool closed_ = false;
  std::int64_t files_ = 0;
  std::int64_t bytes_ = 0;
};

}  // namespace bb
