// libFuzzer target: arbitrary bytes through the frame decoder and message
// decoder. Any input must either decode or be rejected with an error;
// nothing may crash, leak or read out of bounds.
#include <cstddef>
#include <cstdint>

#include "common/frame.hpp"
#include "common/message.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  bb::FrameDecoder dec(4096);
  // Feed in two pieces to exercise reassembly.
  const std::size_t half = size / 2;
  dec.feed(data, half);
  bb::Frame f;
  for (int round = 0; round < 2; ++round) {
    while (dec.next(f) == bb::FrameDecoder::Status::Ready) {
      try {
        bb::Message m = bb::decodeMessage(f.type, f.payload);
        std::vector<std::uint8_t> out;
        bb::encodeMessage(m, out);  // whatever decodes must re-encode
      } catch (const bb::ProtocolError&) {
      }
    }
    if (round == 0) dec.feed(data + half, size - half);
  }
  return 0;
}
