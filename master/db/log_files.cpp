#include "master/db/log_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <spdlog/spdlog.h>

#include "master/db/db_error.hpp"

namespace bb::db {

namespace {

// A failed system call on `path` as a DbError: out of space (or quota, or
// the file size limit) is DiskFull, like the database's own writes.
DbError fileError(const std::string& what, const std::string& path, int err) {
  const std::string cause = std::strerror(err);
  if (err == ENOSPC || err == EDQUOT || err == EFBIG)
    return DbError("log file " + path + " is out of space (its disk is full, or it reached its size limit): " +
                       what + ": " + cause,
                   DbErrorKind::DiskFull, cause);
  return DbError("log file " + path + ": " + what + ": " + cause, DbErrorKind::Other, cause);
}

}  // namespace

LogFiles::LogFiles(std::string dir) : dir_(std::move(dir)) {}

LogFiles::~LogFiles() {
  for (auto& [id, w] : writers_) ::close(w.fd);
}

std::string LogFiles::pathOf(std::int64_t logId) const {
  return dir_ + "/" + std::to_string(logId) + ".log";
}

LogFiles::Writer& LogFiles::writer(std::int64_t logId, const std::function<std::int64_t()>& committedEnd) {
  if (auto it = writers_.find(logId); it != writers_.end()) return it->second;
  if (!dirMade_) {
    if (::mkdir(dir_.c_str(), 0755) != 0 && errno != EEXIST) throw fileError("cannot make the directory", dir_, errno);
    dirMade_ = true;
  }
  const std::string path = pathOf(logId);
  const std::int64_t end = committedEnd();
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw fileError("cannot open it for writing", path, errno);
  // Bytes past the committed end belong to no chunk (a crash or a failed
  // transaction wrote them): cut them off.
  if (::ftruncate(fd, end) != 0) {
    const int err = errno;
    ::close(fd);
    throw fileError("cannot cut it back to its stored " + std::to_string(end) + " bytes", path, err);
  }
  return writers_.emplace(logId, Writer{fd, end}).first->second;
}

std::int64_t LogFiles::write(std::int64_t logId, std::string_view data,
                             const std::function<std::int64_t()>& committedEnd) {
  Writer& w = writer(logId, committedEnd);
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::pwrite(w.fd, data.data() + done, data.size() - done,
                               static_cast<off_t>(w.end + static_cast<std::int64_t>(done)));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw fileError("cannot write " + std::to_string(data.size()) + " bytes", pathOf(logId), errno);
    }
    if (n == 0) throw fileError("cannot write", pathOf(logId), ENOSPC);
    done += static_cast<std::size_t>(n);
  }
  return w.end;
}

void LogFiles::written(std::int64_t logId, std::int64_t end) {
  if (auto it = writers_.find(logId); it != writers_.end()) it->second.end = end;
}

void LogFiles::close(std::int64_t logId) {
  auto it = writers_.find(logId);
  if (it == writers_.end()) return;
  ::close(it->second.fd);
  writers_.erase(it);
}

void LogFiles::abandon(std::int64_t logId) {
  auto it = writers_.find(logId);
  if (it == writers_.end()) return;
  const std::string path = pathOf(logId);
  const std::int64_t end = it->second.end;
  if (end == 0) {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT)
      spdlog::warn("log file {}: cannot delete it: {}", path, std::strerror(errno));
  } else if (::ftruncate(it->second.fd, end) != 0) {
    // Harmless: bytes past the committed end belong to no chunk, and are
    // cut off when the file is next opened for writing.
    spdlog::warn("log file {}: cannot cut it back to {} bytes: {}", path, end, std::strerror(errno));
  }
  close(logId);
}

void LogFiles::remove(const std::vector<std::int64_t>& logIds) {
  for (std::int64_t id : logIds) {
    close(id);
    const std::string path = pathOf(id);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT)
      spdlog::warn("log file {}: cannot delete it: {}", path, std::strerror(errno));
  }
}

void LogFiles::read(std::int64_t logId, std::int64_t offset, std::size_t size, std::string& out) const {
  const std::string path = pathOf(logId);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    throw DbError("log " + std::to_string(logId) + " is damaged: its file " + path + " cannot be opened: " +
                      std::strerror(err),
                  DbErrorKind::Corrupt, std::strerror(err));
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  out.resize(size);
  std::size_t done = 0;
  while (done < size) {
    const ssize_t n = ::pread(fd, out.data() + done, size - done,
                              static_cast<off_t>(offset + static_cast<std::int64_t>(done)));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      throw DbError("log " + std::to_string(logId) + ": reading its file " + path + " failed: " + std::strerror(err),
                    DbErrorKind::Other, std::strerror(err));
    }
    if (n == 0)
      throw DbError("log " + std::to_string(logId) + " is damaged: its file " + path + " ends at byte " +
                        std::to_string(offset + static_cast<std::int64_t>(done)) + ", before its chunk at " +
                        std::to_string(offset) + " (" + std::to_string(size) + " bytes) ends",
                    DbErrorKind::Corrupt);
    done += static_cast<std::size_t>(n);
  }
}

}  // namespace bb::db
