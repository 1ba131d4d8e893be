// decodeMsgpack gives what nlohmann's reader gives, bin payloads included,
// and refuses the same inputs (plus ext types and too-deep nesting).
#include "common/msgpack_decode.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

using bb::MsgpackError;
using Json = nlohmann::json;
using Bytes = std::vector<std::uint8_t>;

namespace {

Json decode(const Bytes& b, std::size_t depth = 1000) { return bb::decodeMsgpack(b.data(), b.size(), depth); }

bool hasSubtypedBinary(const Json& v) {
  if (v.is_binary()) return v.get_binary().has_subtype();
  if (v.is_structured())
    for (const auto& item : v)
      if (hasSubtypedBinary(item)) return true;
  return false;
}

Json msgpackDecodeSample() {
  Json::binary_t big(Json::binary_t::container_type(70000, 0xab));
  return Json{
      {"ints", {0, 1, 127, 128, 255, 256, 65535, 65536, 4294967295ULL, 4294967296ULL,
                18446744073709551615ULL, -1, -32, -33, -128, -129, -32768, -32769,
                -2147483648LL, -2147483649LL, INT64_MIN}},
      {"floats", {0.5, -1.25e300, 3.0}},
      {"strings", {"", std::string(31, 'a'), std::string(32, 'b'), std::string(255, 'c'),
                   std::string(256, 'd'), std::string(65536, 'e'), "h\xc3\xa9llo"}},
      {"bins", {Json::binary({}), Json::binary(Json::binary_t::container_type(255, 1)),
                Json::binary(Json::binary_t::container_type(256, 2)), Json::binary(big)}},
      {"nested", {{"a", {{"b", {1, {2, {3}}}}}}, {"empty_map", Json::object()}, {"empty", Json::array()}}},
      {"flags", {true, false, nullptr}},
      {"many", Json::array()},
  };
}

}  // namespace

TEST(MsgpackDecode, AgreesWithNlohmannOnEveryKind) {
  Json v = msgpackDecodeSample();
  for (int i = 0; i < 70000; ++i) v["many"].push_back(i % 3);  // array32
  Json wide = Json::object();
  for (int i = 0; i < 70000; ++i) wide[std::to_string(i)] = i;  // map32
  v["wide"] = wide;
  const Bytes b = Json::to_msgpack(v);
  const Json mine = decode(b);
  EXPECT_EQ(mine, Json::from_msgpack(b));
  EXPECT_TRUE(mine["ints"][0].is_number_unsigned());
  EXPECT_TRUE(mine["ints"][11].is_number_integer());
  EXPECT_EQ(mine["bins"][3].get_binary().size(), 70000u);
}

TEST(MsgpackDecode, FloatsAndSignedForms) {
  // float32 1.5, int8 5 (signed although positive), uint8 200
  EXPECT_EQ(decode({0x91, 0xca, 0x3f, 0xc0, 0x00, 0x00}), Json::array({1.5}));
  const Json i8 = decode({0xd0, 0x05});
  EXPECT_TRUE(i8.is_number_integer() && !i8.is_number_unsigned());
  EXPECT_EQ(i8.get<std::int64_t>(), 5);
  EXPECT_EQ(decode({0xd1, 0xff, 0x38}).get<std::int64_t>(), -200);
  EXPECT_TRUE(decode({0xcc, 200}).is_number_unsigned());
}

TEST(MsgpackDecode, RepeatedKeyKeepsTheLastValue) {
  EXPECT_EQ(decode({0x82, 0xa1, 'k', 0x01, 0xa1, 'k', 0x02}), (Json{{"k", 2}}));
}

TEST(MsgpackDecode, RefusesWhatNoMessageMayHold) {
  auto kind = [](const Bytes& b, std::size_t depth = 64) {
    try {
      decode(b, depth);
    } catch (const MsgpackError& e) {
      return e.kind == MsgpackError::Kind::TooDeep ? std::string("deep") : std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_EQ(kind({0xc1}), "unsupported type byte (ext or 0xc1)");
  EXPECT_EQ(kind({0xd4, 0x01, 0x02}), "unsupported type byte (ext or 0xc1)");
  EXPECT_EQ(kind({0x81, 0x01, 0x02}), "map key is not a string");
  EXPECT_EQ(kind({0x01, 0x02}), "bytes after the value");
  EXPECT_EQ(kind({0xc6, 0xff, 0xff, 0xff, 0xff}), "truncated");
  EXPECT_EQ(kind({0xdd, 0xff, 0xff, 0xff, 0xff, 0x01}), "container count exceeds the input");
  EXPECT_EQ(kind({0xdf, 0x00, 0x00, 0x00, 0x02, 0xa0, 0x01}), "container count exceeds the input");
  Bytes nested(64, 0x91);
  nested.push_back(0x01);
  EXPECT_EQ(kind(nested, 64), "accepted");
  nested.insert(nested.begin(), 0x91);
  EXPECT_EQ(kind(nested, 64), "deep");
}

// Random damage to valid encodings: whenever nlohmann decodes the bytes
// this reader gives the same value, and whenever nlohmann refuses them so
// does this reader. The only difference allowed is ext, which it refuses.
TEST(MsgpackDecode, AgreesWithNlohmannOnDamagedInput) {
  std::mt19937 rng(12345);
  const Bytes base = Json::to_msgpack(Json{{"id", 7}, {"stream", 1}, {"s", "abc"},
                                           {"data", Json::binary({1, 2, 3, 4})},
                                           {"list", {1, -2, 3.5, nullptr, true}}});
  int agreedValues = 0, agreedRefusals = 0;
  for (int round = 0; round < 20000; ++round) {
    Bytes b = base;
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits; ++e) b[rng() % b.size()] = static_cast<std::uint8_t>(rng());
    if (rng() % 4 == 0) b.resize(rng() % b.size());
    const Json theirs = Json::from_msgpack(b, true, false);
    bool mineOk = true;
    Json mine;
    try {
      mine = decode(b);
    } catch (const MsgpackError&) {
      mineOk = false;
    }
    if (theirs.is_discarded()) {
      EXPECT_FALSE(mineOk) << round;
      ++agreedRefusals;
    } else if (!mineOk) {
      EXPECT_TRUE(hasSubtypedBinary(theirs)) << round << " " << theirs.dump();
    } else {
      EXPECT_EQ(Json::to_msgpack(mine), Json::to_msgpack(theirs)) << round;  // NaN equals NaN
      ++agreedValues;
    }
  }
  EXPECT_GT(agreedValues, 1000);
  EXPECT_GT(agreedRefusals, 1000);
}
