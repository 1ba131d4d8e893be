#include "common/frame.hpp"

#include <algorithm>

namespace bb {

void encodeFrameHeader(std::uint16_t type, std::size_t size, std::uint8_t* out) {
  const auto n = static_cast<std::uint32_t>(size);
  const std::uint8_t header[kFrameHeaderSize] = {
      static_cast<std::uint8_t>(n >> 24), static_cast<std::uint8_t>(n >> 16),
      static_cast<std::uint8_t>(n >> 8),  static_cast<std::uint8_t>(n),
      static_cast<std::uint8_t>(type >> 8), static_cast<std::uint8_t>(type), 0, 0};
  std::copy(header, header + kFrameHeaderSize, out);
}

void encodeFrame(std::uint16_t type, const std::uint8_t* payload, std::size_t size,
                 std::vector<std::uint8_t>& out) {
  std::uint8_t header[kFrameHeaderSize];
  encodeFrameHeader(type, size, header);
  out.insert(out.end(), header, header + kFrameHeaderSize);
  if (size) out.insert(out.end(), payload, payload + size);
}

void FrameDecoder::feed(const std::uint8_t* data, std::size_t size) {
  if (!error_.empty() || size == 0) return;
  // Compact consumed bytes before growing, so the buffer stays bounded by
  // one maximum frame plus one read.
  if (pos_ > 0 && pos_ == buf_.size()) {
    buf_.clear();
    pos_ = 0;
  } else if (pos_ > (1u << 16) && pos_ * 2 > buf_.size()) {
    buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(pos_));
    pos_ = 0;
  }
  buf_.insert(buf_.end(), data, data + size);
}

FrameDecoder::Status FrameDecoder::next(Frame& out) {
  if (!error_.empty()) return Status::Error;
  const std::size_t avail = buf_.size() - pos_;
  if (avail < kFrameHeaderSize) return Status::NeedMore;
  const std::uint8_t* h = buf_.data() + pos_;
  const std::uint32_t len = (std::uint32_t(h[0]) << 24) | (std::uint32_t(h[1]) << 16) |
                            (std::uint32_t(h[2]) << 8) | std::uint32_t(h[3]);
  const std::uint16_t type = static_cast<std::uint16_t>((h[4] << 8) | h[5]);
  if (h[6] != 0 || h[7] != 0) {
    error_ = "frame header has nonzero flags (not protocol version 1)";
    return Status::Error;
  }
  if (len > max_) {
    error_ = "frame of " + std::to_string(len) + " bytes exceeds the maximum of " +
             std::to_string(max_);
    return Status::Error;
  }
  if (avail < kFrameHeaderSize + len) return Status::NeedMore;
  out.type = type;
  out.payload.assign(h + kFrameHeaderSize, h + kFrameHeaderSize + len);
  pos_ += kFrameHeaderSize + len;
  return Status::Ready;
}

}  // namespace bb
