// readMasterMessage: what a slave accepts from the master in a session.
#include "slave/master_message.hpp"

#include <gtest/gtest.h>

namespace bb {
namespace {

Message msg(MsgType t, Json body) {
  Message m;
  m.type = t;
  m.body = std::move(body);
  return m;
}

TEST(MasterMessage, ReadsEachSessionType) {
  auto run = readMasterMessage(msg(MsgType::RunCommand, {{"cmd_id", 3}, {"kind", "shell"}, {"credit", 100},
                                                         {"args", {{"command", "true"}}}}));
  EXPECT_EQ(run.id, 3);
  EXPECT_EQ(run.kind, "shell");
  EXPECT_EQ(run.bytes, 100);
  EXPECT_EQ(run.args.value("command", ""), "true");
  EXPECT_EQ(readMasterMessage(msg(MsgType::Credit, {{"cmd_id", 3}, {"bytes", 5}})).bytes, 5);
  EXPECT_EQ(readMasterMessage(msg(MsgType::Ping, {{"id", 9}})).id, 9);
  EXPECT_EQ(readMasterMessage(msg(MsgType::Interrupt, {{"cmd_id", 3}})).text, "");
  EXPECT_EQ(readMasterMessage(msg(MsgType::Error, {{"code", "x"}, {"message", "a\nb"}})).text, "x: a\\nb");
}

TEST(MasterMessage, RefusesWhatBreaksTheProtocol) {
  const std::vector<Message> bad = {
      msg(MsgType::Ping, Json::object()),
      msg(MsgType::Ping, {{"id", "7"}}),
      msg(MsgType::Credit, {{"cmd_id", 1}, {"bytes", 0}}),
      msg(MsgType::Credit, {{"cmd_id", 1}, {"bytes", -5}}),
      msg(MsgType::Credit, {{"cmd_id", 1}, {"bytes", std::int64_t{1} << 40}}),
      msg(MsgType::RunCommand, {{"cmd_id", 1}, {"kind", "shell"}, {"credit", -1}, {"args", Json::object()}}),
      msg(MsgType::RunCommand, {{"cmd_id", 1}, {"kind", "shell"}, {"credit", 1}, {"args", "x"}}),
      msg(MsgType::Output, Json::object()),
      msg(MsgType::Hello, Json::object()),
  };
  for (const Message& m : bad) EXPECT_THROW(readMasterMessage(m), ProtocolError) << m.body.dump();
}

}  // namespace
}  // namespace bb
