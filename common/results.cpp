#include "common/results.hpp"

#include <array>

namespace bb {

namespace {

constexpr std::array<std::string_view, kResultCount> kNames = {
    "success", "warnings", "failure", "skipped", "exception", "retry", "cancelled"};

// Indexed by the Result's numeric value; see severity() in the header.
constexpr std::array<int, kResultCount> kSeverity = {
    /*Success*/ 1, /*Warnings*/ 2, /*Failure*/ 3, /*Skipped*/ 0,
    /*Exception*/ 4, /*Retry*/ 5, /*Cancelled*/ 6};

}  // namespace

std::string_view toString(Result r) {
  const int i = static_cast<int>(r);
  if (i < 0 || i >= kResultCount) return "unknown";
  return kNames[static_cast<std::size_t>(i)];
}

std::optional<Result> resultFromString(std::string_view name) {
  for (int i = 0; i < kResultCount; ++i) {
    if (kNames[static_cast<std::size_t>(i)] == name) return static_cast<Result>(i);
  }
  return std::nullopt;
}

std::optional<Result> resultFromInt(std::int64_t value) {
  if (value < 0 || value >= kResultCount) return std::nullopt;
  return static_cast<Result>(value);
}

int severity(Result r) {
  const int i = static_cast<int>(r);
  if (i < 0 || i >= kResultCount) return kResultCount;  // unknown: worst of all
  return kSeverity[static_cast<std::size_t>(i)];
}

Result worst(Result a, Result b) { return severity(b) > severity(a) ? b : a; }

}  // namespace bb
