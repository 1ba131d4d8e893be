#pragma once
// `buildbot try --connect master`: the job over the client protocol to a
// try_userpass scheduler (docs/protocol.md §7): try_start with the job's
// fields and the patch size, the patch in try_upload chunks of the size
// the master names, then try_finish. Throws MasterError for a refusal.
#include <string>
#include <vector>

#include "client/request_sender.hpp"
#include "common/try_job.hpp"

namespace bb::client {

struct TryDelivery {
  std::string scheduler;
  std::int64_t buildsetId = 0;
  int chunks = 0;
};

// `scheduler` "" lets the master pick its only try_userpass scheduler.
TryDelivery sendTryOverMaster(RequestSender& master, const TryJob& job, const std::string& scheduler);
// The builders `scheduler` ("" : the only one) lets this user try.
std::vector<std::string> tryBuilderNames(RequestSender& master, const std::string& scheduler);

}  // namespace bb::client
