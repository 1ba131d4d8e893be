#include "common/events_zstd.hpp"

#include <string>

#include <zstd.h>

#include "common/msgpack_decode.hpp"
#include "common/msgpack_write.hpp"

namespace bb {

std::shared_ptr<const std::vector<std::uint8_t>> compressEvents(std::size_t count,
                                                               const std::vector<std::uint8_t>& body) {
  // The master's one thread compresses every shared frame: one context,
  // one buffer for the array, kept between frames.
  thread_local std::unique_ptr<ZSTD_CCtx, decltype(&ZSTD_freeCCtx)> cctx(ZSTD_createCCtx(), ZSTD_freeCCtx);
  thread_local std::vector<std::uint8_t> array;
  array.clear();
  msgpack::putArrayHeader(array, count);
  array.insert(array.end(), body.begin(), body.end());
  auto out = std::make_shared<std::vector<std::uint8_t>>(ZSTD_compressBound(array.size()));
  const std::size_t n = ZSTD_compressCCtx(cctx.get(), out->data(), out->size(), array.data(), array.size(), 1);
  if (ZSTD_isError(n)) throw std::runtime_error(std::string("zstd compression failed: ") + ZSTD_getErrorName(n));
  out->resize(n);
  return out;
}

Json expandEvents(Json frame) {
  auto z = frame.find("events_zstd");
  if (z == frame.end()) return frame;
  if (!z->is_binary()) throw ProtocolError("Events frame: events_zstd is not binary");
  const auto& bytes = z->get_binary();
  const unsigned long long size = ZSTD_getFrameContentSize(bytes.data(), bytes.size());
  if (size == ZSTD_CONTENTSIZE_ERROR) throw ProtocolError("Events frame: events_zstd is not a zstd frame");
  if (size == ZSTD_CONTENTSIZE_UNKNOWN || size > kMaxEventsExpanded)
    throw ProtocolError("Events frame: events_zstd does not state a size of at most " +
                        std::to_string(kMaxEventsExpanded) + " bytes");
  std::vector<std::uint8_t> array(static_cast<std::size_t>(size));
  const std::size_t n = ZSTD_decompress(array.data(), array.size(), bytes.data(), bytes.size());
  if (ZSTD_isError(n) || n != array.size())
    throw ProtocolError(std::string("Events frame: events_zstd does not expand: ") +
                        (ZSTD_isError(n) ? ZSTD_getErrorName(n) : "short"));
  Json events;
  try {
    events = decodeMsgpack(array.data(), array.size(), kMaxNesting);
  } catch (const MsgpackError& e) {
    throw ProtocolError(std::string("Events frame: events_zstd holds undecodable MessagePack: ") + e.what());
  }
  if (!events.is_array()) throw ProtocolError("Events frame: events_zstd does not hold an array of events");
  if (auto c = frame.find("count"); c != frame.end() && (!c->is_number_unsigned() || c->get<std::size_t>() != events.size()))
    throw ProtocolError("Events frame: count says " + c->dump() + " but events_zstd holds " +
                        std::to_string(events.size()));
  frame.erase("events_zstd");
  frame.erase("count");
  frame["events"] = std::move(events);
  return frame;
}

}  // namespace bb
