// An Output body encoded from the bytes is exactly what nlohmann's
// to_msgpack makes of the same Json body: every size class of the data
// and every integer form of the command id, and the master's decoder
// reads it back.
#include "common/output_payload.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/msgpack_decode.hpp"

namespace bb {
namespace {

using Json = nlohmann::json;

TEST(OutputPayload, IsByteForByteWhatTheJsonBodyEncodesTo) {
  std::vector<std::uint8_t> mine;
  for (std::size_t size : {0u, 1u, 31u, 255u, 256u, 65535u, 65536u, 300000u}) {
    std::string data(size, '\0');
    for (std::size_t i = 0; i < size; ++i) data[i] = static_cast<char>(i * 131 + 7);
    for (std::int64_t id : {0LL, 1LL, 127LL, 128LL, 255LL, 256LL, 65535LL, 65536LL, 4294967295LL,
                            4294967296LL, -1LL, -32LL, -33LL, -128LL, -129LL, -32768LL, -32769LL,
                            -2147483648LL, -2147483649LL}) {
      for (int stream : {0, 1, 2}) {
        const Json body = {{"cmd_id", id},
                           {"stream", stream},
                           {"data", Json::binary(std::vector<std::uint8_t>(data.begin(), data.end()))}};
        encodeOutputPayload(id, stream, data, mine);
        ASSERT_EQ(mine, Json::to_msgpack(body)) << "size " << size << " id " << id << " stream " << stream;
      }
    }
    const Json back = decodeMsgpack(mine.data(), mine.size(), 8);
    EXPECT_EQ(back.at("data").get_binary().size(), size);
    EXPECT_EQ(back.at("cmd_id"), -2147483649LL);
    EXPECT_EQ(back.at("stream"), 2);
  }
}

}  // namespace
}  // namespace bb
