#include "slave/directory_archive.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace bb {

DirectoryArchive::DirectoryArchive() = default;

DirectoryArchive::~DirectoryArchive() {
  if (fd_ >= 0) ::close(fd_);
  if (a_) archive_write_free(a_);
}

bool DirectoryArchive::open(const std::string& root, std::int64_t maxBytes, std::string& error) {
  namespace fs = std::filesystem;
  root_ = root;
  // Iterative walk, sorted per directory so the stream is reproducible.
  std::vector<std::string> dirs{""};
  while (!dirs.empty()) {
    const std::string dir = dirs.back();
    dirs.pop_back();
    const std::string full = dir.empty() ? root : root + "/" + dir;
    DIR* d = ::opendir(full.c_str());
    if (!d) {
      error = "cannot read directory " + full + ": " + std::strerror(errno);
      return false;
    }
    std::vector<std::string> names;
    while (dirent* ent = ::readdir(d)) {
      const std::string n = ent->d_name;
      if (n != "." && n != "..") names.push_back(n);
    }
    ::closedir(d);
    std::sort(names.begin(), names.end());
    std::vector<std::string> subdirs;
    for (const auto& n : names) {
      const std::string rel = dir.empty() ? n : dir + "/" + n;
      const std::string path = root + "/" + rel;
      struct stat st {};
      if (::lstat(path.c_str(), &st) != 0) {
        error = "cannot stat " + rel + ": " + std::strerror(errno);
        return false;
      }
      Member m{rel, 'f', 0, static_cast<unsigned>(st.st_mode & 0777), st.st_mtime, ""};
      if (S_ISREG(st.st_mode)) {
        m.size = st.st_size;
        if (m.size > maxBytes || bytes_ + m.size > maxBytes) {
          error = "refused: " + rel + " is " + std::to_string(m.size) + " bytes; the directory's files total over the cap of " +
                  std::to_string(maxBytes) + " bytes";
          return false;
        }
        bytes_ += m.size;
        ++files_;
      } else if (S_ISDIR(st.st_mode)) {
        m.type = 'd';
        subdirs.push_back(rel);
      } else if (S_ISLNK(st.st_mode)) {
        m.type = 'l';
        char buf[4096];
        const ssize_t len = ::readlink(path.c_str(), buf, sizeof buf - 1);
        if (len < 0) {
          error = "cannot read link " + rel + ": " + std::strerror(errno);
          return false;
        }
        m.target.assign(buf, static_cast<std::size_t>(len));
        const fs::path resolved = (fs::path(rel).parent_path() / m.target).lexically_normal();
        if (m.target.empty() || m.target[0] == '/' || (!resolved.empty() && *resolved.begin() == "..")) {
          error = "refused: symbolic link " + rel + " -> " + m.target + " leaves the directory";
          return false;
        }
      } else {
        error = "refused: " + rel + " is a device, fifo or socket, not a file, directory or link";
        return false;
      }
      members_.push_back(std::move(m));
    }
    // Depth first, in name order.
    for (auto it = subdirs.rbegin(); it != subdirs.rend(); ++it) dirs.push_back(*it);
  }
  a_ = archive_write_new();
  if (!a_ || archive_write_set_format_pax_restricted(a_) != ARCHIVE_OK ||
      archive_write_add_filter_zstd(a_) != ARCHIVE_OK ||
      archive_write_set_bytes_in_last_block(a_, 1) != ARCHIVE_OK ||
      archive_write_open2(a_, this, nullptr, &DirectoryArchive::onWrite, nullptr, nullptr) != ARCHIVE_OK) {
    error = std::string("cannot start the archive: ") + (a_ ? archive_error_string(a_) : "out of memory");
    return false;
  }
  return true;
}

ssize_t DirectoryArchive::onWrite(archive*, void* self, const void* buf, std::size_t n) {
  auto* me = static_cast<DirectoryArchive*>(self);
  if (me->sink_) me->sink_->append(static_cast<const char*>(buf), n);
  return static_cast<ssize_t>(n);
}

void DirectoryArchive::writeHeader(const Member& m) {
  archive_entry* e = archive_entry_new();
  archive_entry_set_pathname(e, m.rel.c_str());
  archive_entry_set_perm(e, m.mode);
  archive_entry_set_mtime(e, m.mtime, 0);
  if (m.type == 'f') {
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_size(e, m.size);
  } else if (m.type == 'd') {
    archive_entry_set_filetype(e, AE_IFDIR);
  } else {
    archive_entry_set_filetype(e, AE_IFLNK);
    archive_entry_set_symlink(e, m.target.c_str());
  }
  const int r = archive_write_header(a_, e);
  archive_entry_free(e);
  if (r != ARCHIVE_OK) throw std::runtime_error("archive: " + std::string(archive_error_string(a_)));
}

bool DirectoryArchive::more(std::string& out, std::size_t max) {
  if (closed_) return false;
  sink_ = &out;
  const std::size_t start = out.size();
  char buf[64 * 1024];
  while (out.size() - start < max) {
    if (fd_ >= 0) {
      const std::size_t want = static_cast<std::size_t>(std::min<std::int64_t>(fileLeft_, sizeof buf));
      const ssize_t n = want ? ::read(fd_, buf, want) : 0;
      if (n < 0) throw std::runtime_error("cannot read " + members_[next_ - 1].rel + ": " + std::strerror(errno));
      if (n == 0) {
        ::close(fd_);
        fd_ = -1;
        if (fileLeft_ != 0) throw std::runtime_error(members_[next_ - 1].rel + " shrank while it was being uploaded");
        continue;
      }
      fileLeft_ -= n;
      if (archive_write_data(a_, buf, static_cast<std::size_t>(n)) != n)
        throw std::runtime_error("archive: " + std::string(archive_error_string(a_)));
      continue;
    }
    if (next_ == members_.size()) {
      if (archive_write_close(a_) != ARCHIVE_OK)
        throw std::runtime_error("archive: " + std::string(archive_error_string(a_)));
      closed_ = true;
      break;
    }
    const Member& m = members_[next_++];
    if (m.type == 'f') {
      // O_NOFOLLOW: a file swapped for a link since the walk is not followed.
      fd_ = ::open((root_ + "/" + m.rel).c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
      if (fd_ < 0) throw std::runtime_error("cannot open " + m.rel + ": " + std::strerror(errno));
      fileLeft_ = m.size;
    }
    writeHeader(m);
  }
  sink_ = nullptr;
  return true;
}

}  // namespace bb
