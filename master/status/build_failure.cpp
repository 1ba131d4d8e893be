// Why a build failed: buildFailureView (declared in views.hpp).
#include "master/db/database.hpp"
#include "master/status/views.hpp"

namespace bb {

Json buildFailureView(db::Database& db, const db::BuildRecord& build, int tailLines) {
  if (!build.finished || (build.result != Result::Failure && build.result != Result::Exception))
    return nullptr;
  for (const auto& step : db.stepsForBuild(build.id)) {
    if (step.result != Result::Failure && step.result != Result::Exception) continue;
    Json out{{"step", step.number},
             {"name", step.name},
             {"result", std::string(toString(step.result))},
             {"text", step.text}};
    // The last log with text: for a shell step, its stdio.
    const auto logs = db.logsForStep(step.id);
    for (auto it = logs.rbegin(); it != logs.rend(); ++it) {
      if (it->bytes == 0) continue;
      out["log"] = it->name;
      out["log_tail"] = db.readLogTail(it->id, tailLines);
      break;
    }
    return out;
  }
  return nullptr;
}

}  // namespace bb
