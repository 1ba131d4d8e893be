// Week boundaries, nearest-rank percentiles and the summaries' histogram
// (master/db/stats_records.hpp). No SQL here: the arithmetic of the stats.
#include <algorithm>
#include <bit>
#include <string>

#include "master/db/stats_records.hpp"

namespace bb::db {

std::int64_t statsWeekStart(std::int64_t t) {
  if (t < 0) t = 0;
  const std::int64_t day = t / 86400;
  // 1970-01-01 was a Thursday: day 0 is weekday 3 counting Monday as 0.
  const std::int64_t weekday = (day + 3) % 7;
  return (day - weekday) * 86400;
}

std::int64_t nearestRank(const std::vector<std::int64_t>& sorted, int p) {
  if (sorted.empty()) return 0;
  const std::size_t n = sorted.size();
  // ceil(p * n / 100) in integers, at least 1.
  std::size_t rank = (static_cast<std::size_t>(p) * n + 99) / 100;
  rank = std::clamp<std::size_t>(rank, 1, n);
  return sorted[rank - 1];
}

int StatsHistogram::bucketOf(std::int64_t value) {
  if (value < 32) return value < 0 ? 0 : static_cast<int>(value);
  const int e = 63 - std::countl_zero(static_cast<std::uint64_t>(value));  // >= 5
  const int sub = static_cast<int>((value >> (e - 4)) & 15);
  return 32 + (e - 5) * 16 + sub;
}

std::int64_t StatsHistogram::bucketLow(int bucket) {
  if (bucket < 32) return bucket;
  const int e = (bucket - 32) / 16 + 5;
  const int sub = (bucket - 32) % 16;
  return static_cast<std::int64_t>(16 + sub) << (e - 4);
}

std::int64_t StatsHistogram::bucketHigh(int bucket) {
  if (bucket < 32) return bucket;
  const int e = (bucket - 32) / 16 + 5;
  return bucketLow(bucket) + (std::int64_t{1} << (e - 4)) - 1;
}

void StatsHistogram::add(std::int64_t value, std::int64_t count) {
  if (count <= 0) return;
  buckets_[bucketOf(value)] += count;
  count_ += count;
}

void StatsHistogram::merge(const StatsHistogram& other) {
  for (const auto& [b, c] : other.buckets_) buckets_[b] += c;
  count_ += other.count_;
}

std::int64_t StatsHistogram::percentile(int p) const {
  if (count_ == 0) return 0;
  std::int64_t rank = (static_cast<std::int64_t>(p) * count_ + 99) / 100;
  rank = std::clamp<std::int64_t>(rank, 1, count_);
  std::int64_t seen = 0;
  for (const auto& [b, c] : buckets_) {
    seen += c;
    if (seen >= rank) return (bucketLow(b) + bucketHigh(b)) / 2;
  }
  return bucketHigh(buckets_.rbegin()->first);
}

Json StatsHistogram::toJson() const {
  Json out = Json::object();
  for (const auto& [b, c] : buckets_) out[std::to_string(b)] = c;
  return out;
}

StatsHistogram StatsHistogram::fromJson(const Json& j) {
  StatsHistogram h;
  if (!j.is_object()) return h;
  for (const auto& [k, v] : j.items()) {
    if (!v.is_number_integer()) continue;
    int b = 0;
    try {
      b = std::stoi(k);
    } catch (const std::exception&) {
      continue;  // a damaged entry is dropped, not fatal
    }
    if (b < 0 || b > 32 + 59 * 16) continue;
    const std::int64_t c = v.get<std::int64_t>();
    if (c <= 0) continue;
    h.buckets_[b] += c;
    h.count_ += c;
  }
  return h;
}

}  // namespace bb::db
