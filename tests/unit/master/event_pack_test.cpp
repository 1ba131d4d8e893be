// An event written straight to MessagePack (packEvent, what every watching
// client is sent) is byte for byte what nlohmann's to_msgpack makes of its
// Json view (toJson): every optional key present and absent, every size
// class of its strings and integers, and data of every shape.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "master/events/event.hpp"

namespace bb {
namespace {

std::vector<std::uint8_t> viaJson(const Event& e) { return Json::to_msgpack(toJson(e)); }

std::vector<std::uint8_t> direct(const Event& e) {
  std::vector<std::uint8_t> out;
  packEvent(e, out);
  return out;
}

TEST(EventPack, AMinimalEventIsWhatItsJsonEncodesTo) {
  Event e;
  e.type = EventType::SchedulerState;
  e.seq = 1;
  e.timeMs = 1796446953257;
  EXPECT_EQ(direct(e), viaJson(e));
  e.data = Json();  // null data
  EXPECT_EQ(direct(e), viaJson(e));
}

TEST(EventPack, EveryKeyAndEverySizeClassIsWhatItsJsonEncodesTo) {
  const std::vector<std::int64_t> ints{0, 1, 127, 128, 255, 256, 65535, 65536, 4294967295LL, 4294967296LL,
                                       -1, -32, -33, -128, -129, -32768, -32769, -2147483648LL, -2147483649LL};
  const std::vector<std::uint64_t> seqs{0, 1, 127, 128, 65536, 4294967296ULL, 18446744073709551615ULL};
  const std::vector<std::string> texts{"", "b", std::string(31, 'x'), std::string(32, 'y'),
                                       std::string(255, 'z'), std::string(256, 'w'), std::string(70000, 'v'),
                                       "caf\xc3\xa9"};
  std::mt19937_64 rng(12345);
  auto pick = [&rng](const auto& v) { return v[rng() % v.size()]; };
  const std::vector<EventType> types{EventType::ChangeAdded, EventType::BuildFinished, EventType::LogLines,
                                     EventType::LockReleased, EventType::SlaveBackedOff};
  std::size_t checked = 0;
  for (int i = 0; i < 3000; ++i) {
    Event e;
    e.type = pick(types);
    e.seq = pick(seqs);
    e.timeMs = pick(ints);
    if (rng() % 2) e.builder = pick(texts);
    if (rng() % 2) e.slave = pick(texts);
    if (rng() % 2) e.scheduler = pick(texts);
    if (rng() % 2) e.changeId = pick(ints);
    if (rng() % 2) e.buildsetId = pick(ints);
    if (rng() % 2) e.requestId = pick(ints);
    if (rng() % 2) e.buildId = pick(ints);
    if (rng() % 2) e.logId = pick(ints);
    if (rng() % 3 == 0)
      for (std::size_t n = rng() % 20; n > 0; --n) e.changeIds.push_back(pick(ints));
    e.fromOtherMaster = rng() % 4 == 0;
    switch (rng() % 4) {
      case 0: break;  // {}
      case 1: e.data = Json{{"result", "success"}, {"lock_wait_seconds", 0.0}, {"number", pick(ints)}}; break;
      case 2: e.data = Json{{"lines", Json::array({pick(texts), pick(texts)})}, {"end_byte", pick(ints)}}; break;
      default: e.data = Json::array({1, "two", nullptr, true, 2.5}); break;
    }
    ASSERT_EQ(direct(e), viaJson(e)) << toJson(e).dump().substr(0, 300);
    ++checked;
  }
  EXPECT_EQ(checked, 3000u);
}

TEST(EventPack, AppendsAfterWhatIsAlreadyThere) {
  Event e;
  e.type = EventType::BuildStarted;
  e.seq = 7;
  e.builder = "noop";
  std::vector<std::uint8_t> out{0xdc, 0, 1};
  packEvent(e, out);
  std::vector<std::uint8_t> want{0xdc, 0, 1};
  const auto j = viaJson(e);
  want.insert(want.end(), j.begin(), j.end());
  EXPECT_EQ(out, want);
  EXPECT_EQ(e.packed(), j);  // what clients are sent
}

}  // namespace
}  // namespace bb
