#pragma once
// try_userpass: takes try jobs over the client protocol from users whose
// `may` includes `try` (docs/protocol.md §7, try_start / try_upload /
// try_finish). The job's fields come first and are checked at once
// (builders this scheduler lists, the declared patch size against
// max_patch_bytes); the patch follows in chunks, each under a frame; the
// last call checks the whole patch and creates the BuildSet. The owner is
// the authenticated user. Uploads live in memory only: a master restart
// or kMaxUploads newer uploads drop an unfinished one (the client then
// hears "unknown upload").
#include <chrono>
#include <cstdint>
#include <map>
#include <string>

#include "master/schedulers/try_scheduler.hpp"

namespace bb {

class TryUserpassScheduler : public TryScheduler {
 public:
  static constexpr std::size_t kMaxUploads = 16;
  static constexpr std::chrono::minutes kUploadTtl{10};

  TryUserpassScheduler(SchedulerEntry cfg, SchedulerContext ctx);
  // Own keys: max_patch_bytes.
  static void declareType(SchedulerType& t);

  // Checks `job` (its patch empty) and the size of the patch to come;
  // returns the upload's id. Throws TryRefused.
  std::string begin(const std::string& user, TryJob job, std::int64_t patchBytes);
  // Appends `data` at `offset` (which must be what was received so far);
  // returns the bytes received. Throws TryRefused for an unknown upload, a
  // wrong offset, another user's upload, or more than was declared.
  std::int64_t append(const std::string& user, const std::string& uploadId, std::int64_t offset,
                      const std::string& data);
  // Checks the complete patch and creates the BuildSet; the upload ends
  // whether it is accepted or refused. Throws TryRefused.
  NewBuildset finish(const std::string& user, const std::string& uploadId);
  void stop() override { uploads_.clear(); }
  // TryScheduler's fields plus uploads (in progress) and chunks (received).
  Json describe() const override;

 private:
  struct Upload {
    std::string user;
    TryJob job;
    std::int64_t declared = 0;
    int chunks = 0;
    SteadyTime started;
  };
  Upload& find(const std::string& user, const std::string& uploadId);
  void dropStale();

  std::map<std::string, Upload> uploads_;  // by upload id (the job id)
  std::int64_t chunks_ = 0;
};

}  // namespace bb
