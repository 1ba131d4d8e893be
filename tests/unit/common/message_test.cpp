#include "common/message.hpp"

#include <gtest/gtest.h>

#include "common/frame.hpp"

namespace bb {
namespace {

using Bytes = std::vector<std::uint8_t>;

// Encodes `m` into a frame and decodes it back through FrameDecoder.
Message roundTrip(const Message& m) {
  Bytes wire;
  encodeMessage(m, wire);
  FrameDecoder d;
  d.feed(wire.data(), wire.size());
  Frame f;
  EXPECT_EQ(d.next(f), FrameDecoder::Status::Ready);
  return decodeMessage(f.type, f.payload);
}

std::string protocolError(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const ProtocolError& e) {
    return e.what();
  }
  return "(no ProtocolError)";
}

TEST(Message, RoundTrip) {
  Message m;
  m.type = MsgType::RunCommand;
  m.body = Json{{"cmd_id", 7},
                {"kind", "shell"},
                {"credit", 65536},
                {"args", {{"argv", {"make", "-j2"}}, {"env", {{"CC", "gcc"}}}, {"timeout", 0}}}};
  const Message back = roundTrip(m);
  EXPECT_EQ(back.type, MsgType::RunCommand);
  EXPECT_EQ(back.body, m.body);
}

TEST(Message, BinaryDataRoundTrips) {
  std::vector<std::uint8_t> data;
  for (int i = 0; i < 256; ++i) data.push_back(std::uint8_t(i));
  Message m;
  m.type = MsgType::Output;
  m.body = Json{{"cmd_id", 1}, {"stream", 0}, {"data", Json::binary(data)}};
  const Message back = roundTrip(m);
  ASSERT_TRUE(back.body["data"].is_binary());
  EXPECT_EQ(back.body["data"].get_binary(), Json::binary_t(data));
  EXPECT_EQ(getInt(back.body, "stream"), 0);
}

TEST(Message, EmptyBodyAndEmptyPayload) {
  Message hb;
  hb.type = MsgType::Heartbeat;
  const Message back = roundTrip(hb);
  EXPECT_EQ(back.type, MsgType::Heartbeat);
  EXPECT_TRUE(back.body.is_object());
  EXPECT_TRUE(back.body.empty());
  EXPECT_TRUE(decodeMessage(10, {}).body.is_object());
}

TEST(Message, UnknownTypeIsRejected) {
  EXPECT_EQ(protocolError([] { decodeMessage(999, {}); }), "unknown message type 999");
  EXPECT_EQ(protocolError([] { decodeMessage(0, {}); }), "unknown message type 0");
  EXPECT_TRUE(isKnownType(1));
  EXPECT_TRUE(isKnownType(41));
  EXPECT_FALSE(isKnownType(6));
  EXPECT_FALSE(isKnownType(0xffff));
}

TEST(Message, BodyMustBeAMap) {
  const Bytes array = Json::to_msgpack(Json::array({1, 2}));
  EXPECT_EQ(protocolError([&] { decodeMessage(20, array); }), "SlaveInfo body is not a map");
  const Bytes str = Json::to_msgpack(Json("text"));
  EXPECT_EQ(protocolError([&] { decodeMessage(1, str); }), "Hello body is not a map");
}

TEST(Message, GarbageMessagePackIsRejected) {
  const std::vector<Bytes> garbage = {
      {0xc1},                // a byte MessagePack never uses
      {0x81},                // a map of one entry, cut off
      {0x81, 0xa1, 'k'},     // key without value
      {0xdb, 0xff, 0xff, 0xff, 0xff},  // a 4 GiB string that is not there
  };
  for (const Bytes& g : garbage) {
    EXPECT_EQ(protocolError([&] { decodeMessage(22, g); }).rfind(
                  "undecodable MessagePack payload in Output frame: ", 0),
              0u)
        << int(g[0]);
  }
  EXPECT_EQ(protocolError([] { decodeMessage(22, {0x81, 0x01, 0x02}); }),
            "undecodable MessagePack payload in Output frame: map key is not a string");
  EXPECT_EQ(protocolError([] { decodeMessage(22, {0x81, 0xa1, 'k', 0xd4, 0x01, 0x02}); }),
            "undecodable MessagePack payload in Output frame: unsupported type byte (ext or 0xc1)");
  Bytes trailing = Json::to_msgpack(Json{{"a", 1}});
  trailing.push_back(0x00);  // a second value after the map
  EXPECT_NE(protocolError([&] { decodeMessage(22, trailing); }), "(no ProtocolError)");
}

TEST(Message, AccessorsNameTheField) {
  const Json body = {{"name", "linux-1"}, {"cpus", 4},       {"ok", true},
                     {"env", Json::object()}, {"argv", Json::array()}, {"ratio", 0.5},
                     {"none", nullptr}};
  EXPECT_EQ(getString(body, "name"), "linux-1");
  EXPECT_EQ(getInt(body, "cpus"), 4);
  EXPECT_TRUE(getBool(body, "ok"));
  EXPECT_TRUE(getObject(body, "env").is_object());
  EXPECT_TRUE(getArray(body, "argv").is_array());

  EXPECT_EQ(protocolError([&] { getString(body, "host"); }), "field 'host' is missing");
  EXPECT_EQ(protocolError([&] { getString(body, "cpus"); }), "field 'cpus' must be a string");
  EXPECT_EQ(protocolError([&] { getInt(body, "name"); }), "field 'name' must be an integer");
  EXPECT_EQ(protocolError([&] { getInt(body, "ratio"); }), "field 'ratio' must be an integer");
  EXPECT_EQ(protocolError([&] { getBool(body, "cpus"); }), "field 'cpus' must be a boolean");
  EXPECT_EQ(protocolError([&] { getObject(body, "argv"); }), "field 'argv' must be a map");
  EXPECT_EQ(protocolError([&] { getArray(body, "env"); }), "field 'env' must be an array");

  EXPECT_EQ(optString(body, "name"), "linux-1");
  EXPECT_FALSE(optString(body, "absent"));
  EXPECT_FALSE(optString(body, "none"));
  EXPECT_EQ(protocolError([&] { optString(body, "cpus"); }), "field 'cpus' must be a string");
  EXPECT_EQ(optInt(body, "cpus"), 4);
  EXPECT_FALSE(optInt(body, "absent"));
  EXPECT_FALSE(optInt(body, "none"));
  EXPECT_EQ(protocolError([&] { optInt(body, "name"); }), "field 'name' must be an integer");
}

TEST(Message, TypeAndStreamNames) {
  EXPECT_EQ(toString(MsgType::Hello), "Hello");
  EXPECT_EQ(toString(MsgType::CommandDone), "CommandDone");
  EXPECT_EQ(toString(MsgType::Response), "Response");
  EXPECT_EQ(toString(static_cast<MsgType>(6)), "Unknown");
  EXPECT_EQ(toString(Stream::Stdout), "stdout");
  EXPECT_EQ(toString(Stream::Stderr), "stderr");
  EXPECT_EQ(toString(Stream::Header), "header");
}

}  // namespace
}  // namespace bb

namespace bb {
namespace {

TEST(MessageDepth, DeeplyNestedBodyIsRejectedNotACrash) {
  // ~100 KB of nested one-element arrays inside a map: well under the frame
  // limit, but deep enough to overflow a recursive decoder's stack.
  std::vector<std::uint8_t> payload = {0x81, 0xa1, 'k'};
  payload.insert(payload.end(), 100000, 0x91);
  payload.push_back(0x01);
  try {
    decodeMessage(static_cast<std::uint16_t>(MsgType::Hello), payload);
    FAIL() << "expected ProtocolError";
  } catch (const ProtocolError& e) {
    EXPECT_NE(std::string(e.what()).find("nests deeper than 64"), std::string::npos) << e.what();
  }
}

TEST(MessageDepth, ModerateNestingStillDecodes) {
  Json v = 1;
  for (int i = 0; i < 60; ++i) v = Json::array({v});
  Message m{MsgType::RunCommand, Json{{"args", v}}};
  std::vector<std::uint8_t> out;
  encodeMessage(m, out);
  std::vector<std::uint8_t> payload(out.begin() + kFrameHeaderSize, out.end());
  EXPECT_EQ(decodeMessage(static_cast<std::uint16_t>(MsgType::RunCommand), payload).body, m.body);
}

TEST(MessageFields, UnsignedAboveInt64IsOutOfRange) {
  Json body{{"cmd_id", std::numeric_limits<std::uint64_t>::max()}};
  EXPECT_THROW(getInt(body, "cmd_id"), ProtocolError);
  EXPECT_THROW(optInt(body, "cmd_id"), ProtocolError);
}

}  // namespace
}  // namespace bb

namespace bb {
namespace {

// A Credit-like body whose `key` holds the raw bytes `bad` as a MessagePack
// str (nlohmann writes strings without checking them).
std::vector<std::uint8_t> bodyWithString(const std::string& key, const std::string& bad) {
  return Json::to_msgpack(Json{{"cmd_id", 1}, {key, bad}});
}

TEST(MessageUtf8, InvalidUtf8StringIsRefusedNamingTheField) {
  const auto payload = bodyWithString("error", std::string("bad \xff\xfe bytes"));
  std::string why;
  try {
    decodeMessage(static_cast<std::uint16_t>(MsgType::CommandDone), payload);
  } catch (const ProtocolError& e) {
    why = e.what();
  }
  EXPECT_NE(why.find("CommandDone"), std::string::npos) << why;
  EXPECT_NE(why.find("'error'"), std::string::npos) << why;
  EXPECT_NE(why.find("UTF-8"), std::string::npos) << why;
}

TEST(MessageUtf8, NestedValuesKeysAndArraysAreChecked) {
  const std::string bad("\xc3\x28", 2);  // a lead byte without its continuation
  const std::vector<Json> bodies = {
      Json{{"props", {{"got_revision", bad}}}},
      Json{{"props", {{bad, "x"}}}},
      Json{{"versions", {1, bad}}},
      Json{{"s", std::string("\xed\xa0\x80", 3)}},          // a UTF-16 surrogate
      Json{{"s", std::string("\xc0\xaf", 2)}},              // an overlong '/'
      Json{{"s", std::string("\xf4\x90\x80\x80", 4)}},      // above U+10FFFF
      Json{{"s", std::string("\xe2\x82", 2)}},              // truncated at the end
  };
  for (const Json& body : bodies) {
    const auto payload = Json::to_msgpack(body);
    EXPECT_THROW(decodeMessage(static_cast<std::uint16_t>(MsgType::CommandDone), payload),
                 ProtocolError)
        << body.dump(-1, ' ', false, Json::error_handler_t::replace);
  }
}

TEST(MessageUtf8, ValidMultibyteTextAndBinaryPass) {
  Json body{{"name", "B\xc3\xa4r \xe2\x82\xac \xf0\x9f\x98\x80"},
            {"data", Json::binary(std::vector<std::uint8_t>{0xff, 0xfe, 0x00})}};
  const auto payload = Json::to_msgpack(body);
  const Message m = decodeMessage(static_cast<std::uint16_t>(MsgType::Output), payload);
  EXPECT_EQ(m.body, body);
  EXPECT_NO_THROW(m.body.dump());  // what decodes can be written out as JSON
}

TEST(PeerText, EscapesControlCharactersAndBadBytes) {
  EXPECT_EQ(peerText("linux-1"), "linux-1");
  EXPECT_EQ(peerText("a\nb\r\tc"), "a\\nb\\r\\tc");
  EXPECT_EQ(peerText(std::string("x\xff", 2)), "x\\xff");
  EXPECT_EQ(peerText("back\\slash"), "back\\\\slash");
  EXPECT_EQ(peerText("\x1b[31m"), "\\x1b[31m");
  EXPECT_EQ(peerText("B\xc3\xa4r"), "B\xc3\xa4r") << "valid UTF-8 stays readable";
  const std::string forged = "s1\n[2026-01-01 00:00:00] [info] build b1 #1 finished: success";
  EXPECT_EQ(peerText(forged).find('\n'), std::string::npos);
}

TEST(PeerText, LongTextIsCutOnACharacterBoundary) {
  std::string longName(300, 'a');
  const std::string out = peerText(longName, 10);
  EXPECT_EQ(out, "aaaaaaaaaa... (300 bytes)");
  const std::string umlauts = "\xc3\xa4\xc3\xa4\xc3\xa4";  // 3 characters, 6 bytes
  EXPECT_EQ(peerText(umlauts, 3), "\xc3\xa4... (6 bytes)");
}

}  // namespace
}  // namespace bb
