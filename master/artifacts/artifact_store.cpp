#include "master/artifacts/artifact_store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include <spdlog/spdlog.h>

#include "common/transfer_paths.hpp"
#include "master/db/database.hpp"

namespace bb {

namespace fs = std::filesystem;

ArtifactWriter::ArtifactWriter(std::string tmpPath, std::string finalPath, int fd)
    : tmp_(std::move(tmpPath)), final_(std::move(finalPath)), fd_(fd) {}

ArtifactWriter::~ArtifactWriter() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_) ::unlink(tmp_.c_str());
}

void ArtifactWriter::write(std::string_view data) {
  std::size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = ::write(fd_, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error("cannot write " + tmp_ + ": " + std::strerror(errno));
    }
    off += static_cast<std::size_t>(n);
  }
  sha_.update(data);
  bytes_ += static_cast<std::int64_t>(data.size());
}

void ArtifactWriter::commit(int mode) {
  if (::fsync(fd_) != 0) throw std::runtime_error("cannot sync " + tmp_ + ": " + std::strerror(errno));
  const int rc = ::close(fd_);
  fd_ = -1;
  if (rc != 0) throw std::runtime_error("cannot close " + tmp_ + ": " + std::strerror(errno));
  if (::chmod(tmp_.c_str(), static_cast<mode_t>(mode)) != 0 || ::rename(tmp_.c_str(), final_.c_str()) != 0)
    throw std::runtime_error("cannot put " + final_ + " in place: " + std::strerror(errno));
  committed_ = true;
}

ArtifactStore::ArtifactStore(std::string masterDir, db::Database& db)
    : root_((fs::path(masterDir) / "artifacts").string()), db_(db) {
  removeLeftovers();
}

void ArtifactStore::removeLeftovers() {
  std::error_code ec;
  if (!fs::is_directory(root_, ec)) return;
  int removed = 0;
  for (auto it = fs::recursive_directory_iterator(root_, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    const std::string n = it->path().filename().string();
    if (n.size() > 1 && n[0] == '.' && n.find(".partial-") != std::string::npos && it->is_regular_file(ec)) {
      std::error_code rm;
      if (fs::remove(it->path(), rm)) ++removed;
    }
  }
  if (removed) spdlog::info("artifacts: removed {} unfinished upload(s) left by an earlier run", removed);
}

std::string ArtifactStore::dirFor(const std::string& builder, int number) const {
  return root_ + "/" + builder + "/" + std::to_string(number);
}

std::string ArtifactStore::pathOf(const db::ArtifactRecord& a) const {
  return dirFor(a.builder, a.number) + "/" + a.name;
}

std::int64_t ArtifactStore::roomForBuild(std::int64_t buildId) {
  return std::max<std::int64_t>(0, maxBuildBytes_ - db_.artifactBytesForBuild(buildId));
}

std::unique_ptr<ArtifactWriter> ArtifactStore::startWrite(const std::string& builder, int number,
                                                          const std::string& name, std::int64_t tag) {
  if (auto bad = checkArtifactName(name)) throw std::invalid_argument(*bad);
  const std::string dir = dirFor(builder, number);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw std::runtime_error("cannot create " + dir + ": " + ec.message());
  const std::string tmp = dir + "/." + name + ".partial-" + std::to_string(tag);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) throw std::runtime_error("cannot create " + tmp + ": " + std::strerror(errno));
  return std::make_unique<ArtifactWriter>(tmp, dir + "/" + name, fd);
}

db::ArtifactRecord ArtifactStore::record(std::int64_t buildId, const std::string& name,
                                         const std::string& kind, std::int64_t size,
                                         const std::string& sha256, int mode, std::int64_t now) {
  db::ArtifactRecord a;
  a.buildId = buildId;
  a.name = name;
  a.kind = kind;
  a.size = size;
  a.sha256 = sha256;
  a.mode = mode;
  a.createdAt = now;
  db_.addArtifact(a);
  return *db_.getArtifact(buildId, name);
}

int ArtifactStore::prune(const std::string& builder, const std::string& name, int keep) {
  if (keep <= 0) return 0;
  auto all = db_.artifactsNamed(builder, name);
  int removed = 0;
  for (std::size_t i = static_cast<std::size_t>(keep); i < all.size(); ++i) {
    db_.deleteArtifact(all[i].id);
    std::error_code ec;
    fs::remove(pathOf(all[i]), ec);
    ++removed;
  }
  return removed;
}

OrphanedArtifacts removeOrphanedArtifacts(const std::string& masterDir, db::Database& db) {
  OrphanedArtifacts out;
  const fs::path root = fs::path(masterDir) / "artifacts";
  std::error_code ec;
  if (!fs::is_directory(root, ec)) return out;
  for (const auto& builderDir : fs::directory_iterator(root, ec)) {
    if (!builderDir.is_directory(ec)) continue;
    const std::string builder = builderDir.path().filename().string();
    for (const auto& numberDir : fs::directory_iterator(builderDir.path(), ec)) {
      const std::string n = numberDir.path().filename().string();
      if (!numberDir.is_directory(ec) || n.empty() || n.size() > 9 ||
          n.find_first_not_of("0123456789") != std::string::npos)
        continue;
      if (db.getBuildByNumber(builder, std::stoi(n))) continue;
      std::uintmax_t bytes = 0;
      for (const auto& f : fs::recursive_directory_iterator(numberDir.path(), ec))
        if (f.is_regular_file(ec)) bytes += f.file_size(ec);
      if (fs::remove_all(numberDir.path(), ec) == static_cast<std::uintmax_t>(-1) || ec) {
        spdlog::warn("cannot remove {}: {}", numberDir.path().string(), ec.message());
        continue;
      }
      ++out.dirs;
      out.bytes += bytes;
    }
  }
  return out;
}

}  // namespace bb
