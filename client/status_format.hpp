#pragma once
// Text formatting for `buildbot status`: timestamps, durations, results and
// aligned tables. Pure functions of the JSON the master returns.
#include <string>
#include <vector>

#include "common/message.hpp"  // Json

namespace bb::client {

// A UNIX time (seconds, integer or fractional) as local "YYYY-MM-DD HH:MM:SS";
// a string is shown as is; null or missing gives "-".
std::string formatTimestamp(const Json& t);

// "45s", "3m 05s", "2h 01m": the span between two UNIX times; "-" if either
// is not a number.
std::string formatDuration(const Json& start, const Json& end);

// The result to show for a build or step: its result string, "running" when
// it is not finished, "-" when unknown.
std::string displayResult(const Json& item);

// The trigger links of a `build` reply's build object, one indented line
// each: "  triggered by PARENT #N" for a triggered build, then per BuildSet
// its trigger steps started, per builder "  triggered CHILD #M: RESULT"
// (one line per build) or "  triggered CHILD: pending". "" if none.
std::string formatTriggerLinks(const Json& build);
// "  artifact NAME (KIND, N bytes, sha256 X)" per artifact of a build,
// ending ": removed by retention at T (RULE)" for one the retention
// janitor deleted; then "  logs removed by retention at T (RULE)" when
// the build's log text was deleted.
std::string formatArtifacts(const Json& build);
// "Retention: last run T: removed ..." from the `status` reply's
// `retention` object; "" when retention is off and never ran.
std::string formatRetention(const Json& retention);

// Why a build failed, from the master's `failure` object:
//   "b1 #3 failed in step 2 'test': exit code 1\n"
//   "  last lines of its stdio log:\n    LINE\n    ...\n"
// `what` names the build ("b1 #3").
std::string formatFailure(const std::string& what, const Json& failure);

// One line for a scheduler of the `status` reply (its SCHEDULER view):
// "NAME (TYPE): next run ..., tree stable at ..., 2 changes held (ids 4,
// 5), after UPSTREAM, last error: ...", from the fields it has (the held
// count from held_count, the first 10 ids listed); "idle"
// when it says nothing of itself.
std::string formatSchedulerLine(const Json& scheduler);

// Left-aligned columns separated by two spaces; the first row is the header.
// Trailing spaces are trimmed from every line.
std::string formatTable(const std::vector<std::vector<std::string>>& rows);

// A JSON value as text for a table cell: strings unquoted, numbers as
// written, null as "-".
std::string cellText(const Json& v);

}  // namespace bb::client
