#pragma once
// Wire framing: every frame is an 8-byte header followed by a payload.
//   bytes 0-3  payload length, unsigned big-endian
//   bytes 4-5  message type, unsigned big-endian (see message.hpp)
//   bytes 6-7  flags, must be zero in protocol version 1
// The length is checked against the configured maximum before anything is
// allocated, so a peer cannot make us reserve memory by lying about it.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace bb {

inline constexpr std::size_t kFrameHeaderSize = 8;
inline constexpr std::uint32_t kDefaultMaxFrame = 1u << 20;  // 1 MiB

struct Frame {
  std::uint16_t type = 0;
  std::vector<std::uint8_t> payload;
};

// Writes the 8-byte header of a frame whose payload is `size` bytes to
// out[0..7] (a sender building the payload in place, after room for it).
void encodeFrameHeader(std::uint16_t type, std::size_t size, std::uint8_t* out);

// Appends header + payload for one frame to `out`.
void encodeFrame(std::uint16_t type, const std::uint8_t* payload, std::size_t size,
                 std::vector<std::uint8_t>& out);

// Incremental decoder: feed bytes as they arrive, take frames out.
class FrameDecoder {
 public:
  enum class Status { NeedMore, Ready, Error };

  explicit FrameDecoder(std::uint32_t maxPayload = kDefaultMaxFrame) : max_(maxPayload) {}

  // Adds received bytes. Never fails; errors surface from next().
  void feed(const std::uint8_t* data, std::size_t size);

  // Takes the next complete frame into `out`. Returns Error (with error()
  // describing it) for an oversized length or nonzero flags; after an error
  // the decoder stays in the error state.
  Status next(Frame& out);

  const std::string& error() const { return error_; }
  // Bytes held but not yet returned as frames (a truncated frame at EOF).
  std::size_t buffered() const { return buf_.size() - pos_; }

 private:
  std::uint32_t max_;
  std::vector<std::uint8_t> buf_;
  std::size_t pos_ = 0;
  std::string error_;
};

}  // namespace bb
