#pragma once
// Where a build's artifacts live: DIR/artifacts/BUILDER/NUMBER/NAME on the
// master, a row each in the database (size, SHA-256). An upload is written
// to a temporary name (".NAME.partial-N") through an ArtifactWriter and
// renamed only when it is complete and checked, so a transfer cut off
// mid-way leaves no file under the final name; the writer removes its
// temporary file when dropped.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/sha256_stream.hpp"
#include "master/db/records.hpp"

namespace bb::db {
class Database;
}

namespace bb {

class ArtifactWriter {
 public:
  ArtifactWriter(std::string tmpPath, std::string finalPath, int fd);
  // Removes the temporary file unless commit() succeeded.
  ~ArtifactWriter();
  ArtifactWriter(const ArtifactWriter&) = delete;
  ArtifactWriter& operator=(const ArtifactWriter&) = delete;

  // Appends bytes; throws std::runtime_error (disk full, ...).
  void write(std::string_view data);
  std::int64_t bytes() const { return bytes_; }
  // The SHA-256 of what was written (call once, before commit()).
  std::string sha256() { return sha_.hexDigest(); }
  // fsync, chmod `mode`, rename to the final name; throws on failure.
  void commit(int mode);
  const std::string& finalPath() const { return final_; }

 private:
  std::string tmp_;
  std::string final_;
  int fd_;
  std::int64_t bytes_ = 0;
  bool committed_ = false;
  Sha256Stream sha_;
};

class ArtifactStore {
 public:
  // Caps on what one build may store (master.artifacts_max_build_size).
  static constexpr std::int64_t kDefaultMaxBuildBytes = std::int64_t{10} << 30;

  // `masterDir` is the master's base directory. Leftover temporary files
  // of transfers cut off by a crash are removed here.
  ArtifactStore(std::string masterDir, db::Database& db);

  void setMaxBuildBytes(std::int64_t n) { maxBuildBytes_ = n; }
  std::int64_t maxBuildBytes() const { return maxBuildBytes_; }
  // What the build may still store.
  std::int64_t roomForBuild(std::int64_t buildId);

  // Opens a temporary file for `name` (checked with checkArtifactName;
  // throws std::invalid_argument) of the build. Throws
  // std::runtime_error when it cannot be created.
  std::unique_ptr<ArtifactWriter> startWrite(const std::string& builder, int number,
                                             const std::string& name, std::int64_t tag);
  // Records a committed writer's artifact; returns the record.
  db::ArtifactRecord record(std::int64_t buildId, const std::string& name, const std::string& kind,
                            std::int64_t size, const std::string& sha256, int mode,
                            std::int64_t now);
  // Deletes (file and row) the builder's artifacts called `name` beyond the
  // `keep` newest builds'; returns how many.
  int prune(const std::string& builder, const std::string& name, int keep);

  // The file of an artifact.
  std::string pathOf(const db::ArtifactRecord& a) const;
  std::string dirFor(const std::string& builder, int number) const;
  db::Database& db() { return db_; }

 private:
  void removeLeftovers();

  std::string root_;  // DIR/artifacts
  db::Database& db_;
  std::int64_t maxBuildBytes_ = kDefaultMaxBuildBytes;
};

// Removes DIR/artifacts/BUILDER/NUMBER of every build the database no
// longer has (buildmaster cleanupdb deletes builds; their artifacts'
// rows go with them, the files here). Temporary files of transfers in
// progress are left alone. Returns the directories removed and their bytes.
struct OrphanedArtifacts {
  int dirs = 0;
  std::uintmax_t bytes = 0;
};
OrphanedArtifacts removeOrphanedArtifacts(const std::string& masterDir, db::Database& db);

}  // namespace bb
