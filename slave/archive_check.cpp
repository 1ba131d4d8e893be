#include "slave/archive_check.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>

#include <filesystem>
#include <memory>
#include <set>

#include "common/message.hpp"
#include "common/transfer_paths.hpp"

namespace bb {

namespace {

struct ReadCloser {
  void operator()(archive* a) const { archive_read_free(a); }
};
struct WriteCloser {
  void operator()(archive* a) const { archive_write_free(a); }
};

std::unique_ptr<archive, ReadCloser> openArchive(const std::string& path, std::string& error) {
  std::unique_ptr<archive, ReadCloser> a(archive_read_new());
  archive_read_support_filter_all(a.get());
  archive_read_support_format_tar(a.get());
  archive_read_support_format_gnutar(a.get());
  if (archive_read_open_filename(a.get(), path.c_str(), 64 * 1024) != ARCHIVE_OK) {
    error = std::string("cannot read the archive: ") + archive_error_string(a.get());
    return nullptr;
  }
  return a;
}

// The member name without a leading "./" and trailing '/'.
std::string memberName(const char* raw) {
  std::string n = raw ? raw : "";
  while (n.rfind("./", 0) == 0) n.erase(0, 2);
  while (n.size() > 1 && n.back() == '/') n.pop_back();
  return n;
}

}  // namespace

std::optional<std::string> checkArchive(const std::string& path, std::int64_t maxBytes,
                                        ArchiveSummary& out) {
  namespace fs = std::filesystem;
  std::string error;
  auto a = openArchive(path, error);
  if (!a) return error;
  std::set<std::string> links;  // symbolic link members so far
  out = {};
  archive_entry* e = nullptr;
  for (;;) {
    const int r = archive_read_next_header(a.get(), &e);
    if (r == ARCHIVE_EOF) break;
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
      return std::string("archive is damaged: ") + archive_error_string(a.get());
    const char* raw = archive_entry_pathname(e);
    const std::string name = memberName(raw);
    const std::string shown = peerText(raw ? raw : "");
    ++out.members;
    if (name.empty() || name == ".") continue;
    if (name[0] == '/') return "member '" + shown + "' is an absolute path";
    if (auto bad = checkTransferPath(name)) return "member '" + shown + "': " + *bad;
    // A member below a symbolic link of the archive would be written
    // through it.
    for (fs::path p = fs::path(name).parent_path(); !p.empty(); p = p.parent_path())
      if (links.count(p.string()))
        return "member '" + shown + "' lies under the symbolic link '" + p.string() + "'";
    const mode_t type = archive_entry_filetype(e);
    if (archive_entry_hardlink(e)) return "member '" + shown + "' is a hard link";
    if (type == AE_IFLNK) {
      const char* t = archive_entry_symlink(e);
      const std::string target = t ? t : "";
      if (target.empty() || target[0] == '/')
        return "symbolic link '" + shown + "' points to an absolute path";
      fs::path resolved = (fs::path(name).parent_path() / target).lexically_normal();
      if (!resolved.empty() && *resolved.begin() == "..")
        return "symbolic link '" + shown + "' points out of the destination (" + peerText(target) + ")";
      links.insert(name);
    } else if (type == AE_IFREG) {
      const std::int64_t size = archive_entry_size(e);
      if (size < 0 || size > maxBytes)
        return "member '" + shown + "' is " + std::to_string(size) + " bytes, over the cap of " +
               std::to_string(maxBytes) + " bytes";
      out.bytes += size;
      ++out.files;
      if (out.bytes > maxBytes)
        return "the archive's files total more than the cap of " + std::to_string(maxBytes) +
               " bytes (at member '" + shown + "')";
    } else if (type != AE_IFDIR) {
      return "member '" + shown + "' is a device, fifo or socket, not a file, directory or link";
    }
    // Headers only: archive_read_next_header skips the data without
    // writing it anywhere.
  }
  return std::nullopt;
}

std::optional<std::string> extractArchive(const std::string& path, const std::string& dest) {
  std::string error;
  auto a = openArchive(path, error);
  if (!a) return error;
  std::unique_ptr<archive, WriteCloser> w(archive_write_disk_new());
  archive_write_disk_set_options(w.get(), ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM |
                                              ARCHIVE_EXTRACT_SECURE_SYMLINKS |
                                              ARCHIVE_EXTRACT_SECURE_NODOTDOT |
                                              ARCHIVE_EXTRACT_NO_OVERWRITE);
  archive_entry* e = nullptr;
  for (;;) {
    const int r = archive_read_next_header(a.get(), &e);
    if (r == ARCHIVE_EOF) break;
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
      return std::string("archive is damaged: ") + archive_error_string(a.get());
    const std::string name = memberName(archive_entry_pathname(e));
    if (name.empty() || name == ".") continue;
    // dest is a real path (no links in it), so SECURE_SYMLINKS only ever
    // sees the archive's own links; the member names were checked before.
    archive_entry_set_pathname(e, (dest + "/" + name).c_str());
    archive_entry_set_perm(e, archive_entry_perm(e) & 0755);  // no set-id bits
    if (archive_write_header(w.get(), e) != ARCHIVE_OK)
      return "cannot extract '" + peerText(name) + "': " + archive_error_string(w.get());
    if (archive_entry_size(e) > 0) {
      const void* buf = nullptr;
      size_t size = 0;
      la_int64_t offset = 0;
      for (;;) {
        const int d = archive_read_data_block(a.get(), &buf, &size, &offset);
        if (d == ARCHIVE_EOF) break;
        if (d != ARCHIVE_OK) return std::string("archive is damaged: ") + archive_error_string(a.get());
        if (archive_write_data_block(w.get(), buf, size, offset) != ARCHIVE_OK)
          return "cannot write '" + peerText(name) + "': " + archive_error_string(w.get());
      }
    }
    if (archive_write_finish_entry(w.get()) != ARCHIVE_OK)
      return "cannot finish '" + peerText(name) + "': " + archive_error_string(w.get());
  }
  if (archive_write_close(w.get()) != ARCHIVE_OK)
    return std::string("cannot finish extraction: ") + archive_error_string(w.get());
  return std::nullopt;
}

}  // namespace bb
