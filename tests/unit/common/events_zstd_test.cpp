// Compressed Events frames: what compressEvents makes, expandEvents turns
// back into the {events} frame a client reads; a frame that lies about its
// events (not zstd, a bomb, not an array, a wrong count) is refused with
// a ProtocolError naming the problem.
#include "common/events_zstd.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <zstd.h>

namespace bb {
namespace {

Json compressedFrame(const std::vector<Json>& events, std::size_t count) {
  std::vector<std::uint8_t> body;
  for (const auto& e : events) {
    const auto b = Json::to_msgpack(e);
    body.insert(body.end(), b.begin(), b.end());
  }
  const auto z = compressEvents(events.size(), body);
  return Json{{"subscription_id", 7}, {"count", count}, {"events_zstd", Json::binary(*z)}};
}

std::string refusal(Json frame) {
  try {
    expandEvents(std::move(frame));
  } catch (const ProtocolError& e) {
    return e.what();
  }
  return "accepted";
}

TEST(EventsZstd, ACompressedFrameExpandsToTheEventsItWasMadeOf) {
  std::vector<Json> events;
  for (int i = 0; i < 300; ++i)
    events.push_back(Json{{"seq", i + 1}, {"type", "build.started"}, {"builder", "b" + std::to_string(i % 3)}});
  const Json frame = compressedFrame(events, events.size());
  EXPECT_LT(frame.at("events_zstd").get_binary().size(), Json::to_msgpack(Json(events)).size() / 4);
  const Json out = expandEvents(frame);
  EXPECT_EQ(out, (Json{{"subscription_id", 7}, {"events", events}}));
  // A plain frame is left as it is.
  const Json plain{{"subscription_id", 7}, {"events", Json::array({Json{{"seq", 1}}})}};
  EXPECT_EQ(expandEvents(plain), plain);
  // One event: a fixarray header.
  EXPECT_EQ(expandEvents(compressedFrame({Json{{"seq", 1}}}, 1)).at("events").size(), 1u);
}

TEST(EventsZstd, AFrameThatLiesAboutItsEventsIsRefusedWithTheReason) {
  const std::vector<Json> two{Json{{"seq", 1}}, Json{{"seq", 2}}};
  EXPECT_NE(refusal(compressedFrame(two, 3)).find("count says 3 but events_zstd holds 2"), std::string::npos);
  EXPECT_NE(refusal(Json{{"subscription_id", 1}, {"events_zstd", "text"}}).find("not binary"), std::string::npos);
  EXPECT_NE(refusal(Json{{"subscription_id", 1}, {"events_zstd", Json::binary({1, 2, 3, 4, 5, 6, 7, 8})}})
                .find("not a zstd frame"),
            std::string::npos);
  // 64 MiB of zeros claim a size past the limit: refused before anything is allocated.
  std::vector<std::uint8_t> zeros(64u << 20, 0);
  std::vector<std::uint8_t> bomb(ZSTD_compressBound(zeros.size()));
  bomb.resize(ZSTD_compress(bomb.data(), bomb.size(), zeros.data(), zeros.size(), 1));
  EXPECT_NE(refusal(Json{{"events_zstd", Json::binary(bomb)}}).find("at most"), std::string::npos);
  // A map, not an array of events.
  const auto map = Json::to_msgpack(Json{{"a", 1}});
  std::vector<std::uint8_t> z(ZSTD_compressBound(map.size()));
  z.resize(ZSTD_compress(z.data(), z.size(), map.data(), map.size(), 1));
  EXPECT_NE(refusal(Json{{"events_zstd", Json::binary(z)}}).find("not hold an array"), std::string::npos);
  // Truncated MessagePack inside.
  const std::vector<std::uint8_t> cut{0x92, 0x01};
  z.assign(ZSTD_compressBound(cut.size()), 0);
  z.resize(ZSTD_compress(z.data(), z.size(), cut.data(), cut.size(), 1));
  EXPECT_NE(refusal(Json{{"events_zstd", Json::binary(z)}}).find("undecodable"), std::string::npos);
}

}  // namespace
}  // namespace bb
