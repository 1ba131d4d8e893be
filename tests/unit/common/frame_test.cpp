#include "common/frame.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace bb {
namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes bytesOf(const std::string& s) { return Bytes(s.begin(), s.end()); }

Bytes frameOf(std::uint16_t type, const Bytes& payload) {
  Bytes out;
  encodeFrame(type, payload.data(), payload.size(), out);
  return out;
}

Bytes header(std::uint32_t len, std::uint16_t type, std::uint8_t f0 = 0, std::uint8_t f1 = 0) {
  return {std::uint8_t(len >> 24), std::uint8_t(len >> 16), std::uint8_t(len >> 8),
          std::uint8_t(len),       std::uint8_t(type >> 8), std::uint8_t(type),
          f0,                      f1};
}

TEST(Frame, HeaderLayoutIsBigEndianLengthTypeFlags) {
  const Bytes f = frameOf(0x0102, bytesOf("abc"));
  ASSERT_EQ(f.size(), kFrameHeaderSize + 3);
  EXPECT_EQ(Bytes(f.begin(), f.begin() + 8), header(3, 0x0102));
  EXPECT_EQ(Bytes(f.begin() + 8, f.end()), bytesOf("abc"));
}

TEST(Frame, RoundTrip) {
  const Bytes payload = bytesOf(std::string("hello\0world", 11));
  Bytes wire = frameOf(21, payload);
  const Bytes empty = frameOf(10, {});
  wire.insert(wire.end(), empty.begin(), empty.end());

  FrameDecoder d;
  d.feed(wire.data(), wire.size());
  Frame f;
  ASSERT_EQ(d.next(f), FrameDecoder::Status::Ready);
  EXPECT_EQ(f.type, 21);
  EXPECT_EQ(f.payload, payload);
  ASSERT_EQ(d.next(f), FrameDecoder::Status::Ready);
  EXPECT_EQ(f.type, 10);
  EXPECT_TRUE(f.payload.empty());
  EXPECT_EQ(d.next(f), FrameDecoder::Status::NeedMore);
  EXPECT_EQ(d.buffered(), 0u);
  EXPECT_EQ(d.error(), "");
}

TEST(Frame, ByteByByteFeeding) {
  Bytes payload(300);
  for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = std::uint8_t(i * 7);
  const Bytes wire = frameOf(22, payload);
  FrameDecoder d;
  Frame f;
  for (std::size_t i = 0; i + 1 < wire.size(); ++i) {
    d.feed(&wire[i], 1);
    ASSERT_EQ(d.next(f), FrameDecoder::Status::NeedMore) << "after byte " << i;
    EXPECT_EQ(d.buffered(), i + 1);
  }
  d.feed(&wire.back(), 1);
  ASSERT_EQ(d.next(f), FrameDecoder::Status::Ready);
  EXPECT_EQ(f.type, 22);
  EXPECT_EQ(f.payload, payload);
  EXPECT_EQ(d.buffered(), 0u);
}

TEST(Frame, ManyFramesInOddChunksSurviveBufferCompaction) {
  // Enough data that the decoder compacts its buffer several times.
  Bytes wire;
  const int kFrames = 400;
  for (int i = 0; i < kFrames; ++i) {
    const Bytes payload(1000 + i, std::uint8_t(i));
    const Bytes f = frameOf(std::uint16_t(i), payload);
    wire.insert(wire.end(), f.begin(), f.end());
  }
  FrameDecoder d;
  Frame f;
  int seen = 0;
  for (std::size_t at = 0; at < wire.size(); at += 777) {
    d.feed(wire.data() + at, std::min<std::size_t>(777, wire.size() - at));
    while (d.next(f) == FrameDecoder::Status::Ready) {
      ASSERT_EQ(f.type, seen);
      ASSERT_EQ(f.payload, Bytes(1000 + seen, std::uint8_t(seen)));
      ++seen;
    }
  }
  EXPECT_EQ(seen, kFrames);
  EXPECT_EQ(d.buffered(), 0u);
}

TEST(Frame, OversizedLengthIsRejectedFromTheHeaderAlone) {
  FrameDecoder d(100);
  const Bytes h = header(101, 21);
  d.feed(h.data(), h.size());  // no payload bytes at all: nothing to wait for
  Frame f;
  ASSERT_EQ(d.next(f), FrameDecoder::Status::Error);
  EXPECT_EQ(d.error(), "frame of 101 bytes exceeds the maximum of 100");
  // Sticky: later bytes do not revive the decoder.
  const Bytes good = frameOf(21, bytesOf("x"));
  d.feed(good.data(), good.size());
  EXPECT_EQ(d.next(f), FrameDecoder::Status::Error);

  FrameDecoder big;  // default maximum
  const Bytes huge = header(0xffffffffu, 21);
  big.feed(huge.data(), huge.size());
  ASSERT_EQ(big.next(f), FrameDecoder::Status::Error);
  EXPECT_EQ(big.error(), "frame of 4294967295 bytes exceeds the maximum of 1048576");
}

TEST(Frame, ExactMaximumIsAccepted) {
  FrameDecoder d(100);
  const Bytes wire = frameOf(21, Bytes(100, 0xab));
  d.feed(wire.data(), wire.size());
  Frame f;
  ASSERT_EQ(d.next(f), FrameDecoder::Status::Ready);
  EXPECT_EQ(f.payload.size(), 100u);
}

TEST(Frame, NonzeroFlagsAreRejected) {
  for (const Bytes& h : {header(0, 10, 1, 0), header(0, 10, 0, 0x80)}) {
    FrameDecoder d;
    d.feed(h.data(), h.size());
    Frame f;
    ASSERT_EQ(d.next(f), FrameDecoder::Status::Error);
    EXPECT_EQ(d.error(), "frame header has nonzero flags (not protocol version 1)");
  }
}

TEST(Frame, BufferedReportsATruncatedTail) {
  const Bytes first = frameOf(21, bytesOf("complete"));
  const Bytes second = frameOf(22, bytesOf("cut short"));
  Bytes wire = first;
  wire.insert(wire.end(), second.begin(), second.begin() + 12);  // header + 4 bytes
  FrameDecoder d;
  d.feed(wire.data(), wire.size());
  Frame f;
  ASSERT_EQ(d.next(f), FrameDecoder::Status::Ready);
  EXPECT_EQ(d.next(f), FrameDecoder::Status::NeedMore);
  EXPECT_EQ(d.buffered(), 12u);  // what a connection reports as truncated at EOF

  FrameDecoder partialHeader;
  partialHeader.feed(second.data(), 5);
  EXPECT_EQ(partialHeader.next(f), FrameDecoder::Status::NeedMore);
  EXPECT_EQ(partialHeader.buffered(), 5u);
}

}  // namespace
}  // namespace bb
