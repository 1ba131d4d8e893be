#pragma once
// Results of steps, builds, build requests and buildsets, and how they
// combine. The numeric values are stored in the database and sent on the
// wire: never renumber them.
#include <cstdint>
#include <optional>
#include <string_view>

namespace bb {

enum class Result : int {
  Success = 0,
  Warnings = 1,
  Failure = 2,
  Skipped = 3,
  Exception = 4,
  Retry = 5,
  Cancelled = 6,
};

inline constexpr int kResultCount = 7;

// Lower-case name: "success", "warnings", "failure", "skipped", "exception",
// "retry", "cancelled".
std::string_view toString(Result r);

// Parses a name produced by toString(); nullopt for anything else.
std::optional<Result> resultFromString(std::string_view name);

// Maps a stored numeric value back to a Result; nullopt if out of range.
std::optional<Result> resultFromInt(std::int64_t value);

// Rank used by worst(); higher is worse. The order, best to worst, is
//   Skipped < Success < Warnings < Failure < Exception < Retry < Cancelled
// so a skipped step never hides a success, and a cancellation dominates all.
int severity(Result r);

// The worse of two results by severity() (a on a tie).
Result worst(Result a, Result b);

}  // namespace bb
