// LogWriter: chunks, stream changes, and what each store reports.
#include "master/process/log_writer.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "tests/unit/master/one_log_db.hpp"

namespace bb {
namespace {

class LogWriterTest : public ::testing::Test, protected test::OneLogDb {};

// Every store reports the byte range and the line ends it holds; bytes
// that merely contain 0x0a in their low bits (0x8a) or sit next to it are
// not line ends.
TEST_F(LogWriterTest, StoresReportTheirByteRangeAndLineEnds) {
  std::vector<LogStored> stores;
  LogWriter w(db, logId, nullptr, [&](const LogStored& s) { stores.push_back(s); });
  std::mt19937 rng(3);
  const char kAlphabet[] = {'\n', '\x8a', '\x0b', '\x09', 'a', '\xff', '\x00', '\n'};
  std::string all;
  for (int piece = 0; piece < 320; ++piece) {
    std::string p(1 + rng() % 9000, ' ');
    for (char& c : p) c = kAlphabet[rng() % sizeof kAlphabet];
    w.append(0, p);
    all += p;
  }
  w.append(1, "err\n");  // a stream change stores what stdout had
  w.finish();
  ASSERT_GE(stores.size(), 6u);
  std::int64_t at = 0;
  for (const LogStored& s : stores) {
    EXPECT_EQ(s.firstByte, at);
    ASSERT_LE(s.endByte - s.firstByte, static_cast<std::int64_t>(LogWriter::kChunkBytes));
    at = s.endByte;
  }
  all += "err\n";
  EXPECT_EQ(at, static_cast<std::int64_t>(all.size()));
  for (const LogStored& s : stores) {
    const auto first = all.begin() + s.firstByte, end = all.begin() + s.endByte;
    EXPECT_EQ(s.newlines, std::count(first, end, '\n')) << s.firstByte;
  }
  EXPECT_EQ(stored(), all);
  EXPECT_EQ(w.bytes(), all.size());
}

}  // namespace
}  // namespace bb
