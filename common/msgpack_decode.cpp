#include "common/msgpack_decode.hpp"

#include <cstring>
#include <string>
#include <utility>

namespace bb {

namespace {

using Json = nlohmann::json;

class Reader {
 public:
  Reader(const std::uint8_t* p, std::size_t n, std::size_t maxDepth)
      : p_(p), n_(n), maxDepth_(maxDepth) {}

  Json document() {
    Json v = value(0);
    if (i_ != n_) malformed("bytes after the value");
    return v;
  }

 private:
  [[noreturn]] static void malformed(const char* what) {
    throw MsgpackError(MsgpackError::Kind::Malformed, what);
  }

  std::size_t left() const { return n_ - i_; }

  // Big-endian unsigned of k bytes.
  std::uint64_t be(std::size_t k) {
    if (k > left()) malformed("truncated");
    std::uint64_t v = 0;
    for (std::size_t j = 0; j < k; ++j) v = (v << 8) | p_[i_ + j];
    i_ += k;
    return v;
  }

  template <typename T>
  T signedBe(std::size_t k) {
    const std::uint64_t u = be(k);
    // Sign-extend from k bytes.
    const unsigned shift = static_cast<unsigned>(64 - 8 * k);
    return static_cast<T>(static_cast<std::int64_t>(u << shift) >> shift);
  }

  const std::uint8_t* take(std::uint64_t len) {
    if (len > left()) malformed("truncated");
    const std::uint8_t* at = p_ + i_;
    i_ += static_cast<std::size_t>(len);
    return at;
  }

  std::string string(std::uint64_t len) {
    const std::uint8_t* at = take(len);
    return std::string(reinterpret_cast<const char*>(at), static_cast<std::size_t>(len));
  }

  Json binary(std::uint64_t len) {
    const std::uint8_t* at = take(len);
    return Json::binary(Json::binary_t::container_type(at, at + len));
  }

  // Each item takes at least one byte: a count above what is left is a lie.
  void checkCount(std::uint64_t items) {
    if (items > left()) malformed("container count exceeds the input");
  }

  Json array(std::uint64_t count, std::size_t depth) {
    checkCount(count);
    Json a = Json::array();
    a.get_ref<Json::array_t&>().reserve(static_cast<std::size_t>(count));
    for (std::uint64_t k = 0; k < count; ++k) a.push_back(value(depth + 1));
    return a;
  }

  Json map(std::uint64_t count, std::size_t depth) {
    if (count > left() / 2) malformed("container count exceeds the input");
    Json o = Json::object();
    for (std::uint64_t k = 0; k < count; ++k) {
      std::string key = mapKey();
      o[std::move(key)] = value(depth + 1);
    }
    return o;
  }

  std::string mapKey() {
    const std::uint8_t b = static_cast<std::uint8_t>(be(1));
    if (b >= 0xa0 && b <= 0xbf) return string(b & 0x1f);
    if (b == 0xd9) return string(be(1));
    if (b == 0xda) return string(be(2));
    if (b == 0xdb) return string(be(4));
    malformed("map key is not a string");
  }

  Json value(std::size_t depth) {
    const std::uint8_t b = static_cast<std::uint8_t>(be(1));
    if (b <= 0x7f) return Json(static_cast<std::uint64_t>(b));
    if (b >= 0xe0) return Json(static_cast<std::int64_t>(static_cast<std::int8_t>(b)));
    const bool container = (b >= 0x80 && b <= 0x9f) || (b >= 0xdc && b <= 0xdf);
    if (container && depth >= maxDepth_)
      throw MsgpackError(MsgpackError::Kind::TooDeep, "nested too deep");
    if (b <= 0x8f) return map(b & 0x0f, depth);
    if (b <= 0x9f) return array(b & 0x0f, depth);
    if (b <= 0xbf) return Json(string(b & 0x1f));
    switch (b) {
      case 0xc0: return Json(nullptr);
      case 0xc2: return Json(false);
      case 0xc3: return Json(true);
      case 0xc4: return binary(be(1));
      case 0xc5: return binary(be(2));
      case 0xc6: return binary(be(4));
      case 0xca: {
        const std::uint32_t u = static_cast<std::uint32_t>(be(4));
        float f;
        std::memcpy(&f, &u, sizeof f);
        return Json(static_cast<double>(f));
      }
      case 0xcb: {
        const std::uint64_t u = be(8);
        double d;
        std::memcpy(&d, &u, sizeof d);
        return Json(d);
      }
      case 0xcc: return Json(be(1));
      case 0xcd: return Json(be(2));
      case 0xce: return Json(be(4));
      case 0xcf: return Json(be(8));
      case 0xd0: return Json(signedBe<std::int64_t>(1));
      case 0xd1: return Json(signedBe<std::int64_t>(2));
      case 0xd2: return Json(signedBe<std::int64_t>(4));
      case 0xd3: return Json(signedBe<std::int64_t>(8));
      case 0xd9: return Json(string(be(1)));
      case 0xda: return Json(string(be(2)));
      case 0xdb: return Json(string(be(4)));
      case 0xdc: return array(be(2), depth);
      case 0xdd: return array(be(4), depth);
      case 0xde: return map(be(2), depth);
      case 0xdf: return map(be(4), depth);
      default: malformed("unsupported type byte (ext or 0xc1)");
    }
  }

  const std::uint8_t* p_;
  std::size_t n_;
  std::size_t maxDepth_;
  std::size_t i_ = 0;
};

}  // namespace

Json decodeMsgpack(const std::uint8_t* data, std::size_t size, std::size_t maxDepth) {
  return Reader(data, size, maxDepth).document();
}

}  // namespace bb
