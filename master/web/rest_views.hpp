#pragma once
// The REST API's entity shapes: the status views (master/status/views.hpp)
// with the field names Buildbot's data API v2 uses added beside ours
// (buildid, complete, complete_at, results as a number, state_string, ...),
// so scripts written for either read them.
#include "common/message.hpp"
#include "config/master_config.hpp"
#include "master/db/records.hpp"

namespace bb::db {
class Database;
}

namespace bb::web {

Json restBuild(db::Database& db, const db::BuildRecord& b);
// restBuild plus `urls`, its steps' URLs (one build: lists leave it out,
// reading every build's steps).
Json restBuildWithUrls(db::Database& db, const db::BuildRecord& b);
Json restStep(const db::StepRecord& s);
Json restLog(const db::LogRecord& l);
Json restRequest(const db::BuildRequestRecord& r);
Json restBuildset(const db::BuildsetRecord& bs);
Json restChange(const db::ChangeRecord& c);
Json restBuilder(const BuilderEntry& b);

// The Buildbot number of a result, null while there is none.
Json resultsCode(bool finished, Result r);

}  // namespace bb::web
