// IRC lines parsed, nick globs, reply splitting and the send token bucket.
#include <gtest/gtest.h>

#include "master/reporters/irc_line.hpp"

namespace bb {
namespace {

TEST(IrcLine, ParsesPrefixCommandAndTrailing) {
  auto l = parseIrcLine(":alice!~a@127.0.0.1 PRIVMSG #ci :ci-bot: status b1\r\n");
  ASSERT_TRUE(l);
  EXPECT_EQ(l->nick(), "alice");
  EXPECT_EQ(l->command, "PRIVMSG");
  EXPECT_EQ(l->params, (std::vector<std::string>{"#ci", "ci-bot: status b1"}));
  auto p = parseIrcLine("PING :irc.test");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->prefix, "");
  EXPECT_EQ(p->param(0), "irc.test");
  EXPECT_EQ(p->param(5), "");
  auto t = parseIrcLine("@time=x :srv 433 * ci-bot :Nickname already in use");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->command, "433");
  EXPECT_EQ(t->param(1), "ci-bot");
  EXPECT_FALSE(parseIrcLine("\r\n"));
  EXPECT_FALSE(parseIrcLine(":prefixonly"));
}

TEST(IrcLine, NickGlobs) {
  EXPECT_TRUE(ircNickMatches("ali*", "alice"));
  EXPECT_TRUE(ircNickMatches("ALI?E", "alice"));
  EXPECT_TRUE(ircNickMatches("a[b]", "A{B}"));
  EXPECT_FALSE(ircNickMatches("ali*", "mallory"));
  EXPECT_FALSE(ircNickMatches("alice", "alice2"));
  EXPECT_TRUE(ircNickMatches("*", ""));
}

TEST(IrcLine, SplitsAtNewlinesAndLongLinesAtSpaces) {
  EXPECT_EQ(splitIrcText("a\nb\r\n\nc"), (std::vector<std::string>{"a", "b", "c"}));
  auto parts = splitIrcText(std::string(30, 'x') + " " + std::string(30, 'y'), 40);
  EXPECT_EQ(parts, (std::vector<std::string>{std::string(30, 'x'), std::string(30, 'y')}));
  EXPECT_EQ(splitIrcText("a\tb\x01"), (std::vector<std::string>{"a b"}));
}

TEST(IrcSendQueue, BurstThenRateAndDropsTheOldestWhenFull) {
  IrcSendQueue q(2.0, 3, 5);
  const SteadyTime t0{};
  for (int i = 0; i < 7; ++i) q.push("l" + std::to_string(i));
  EXPECT_EQ(q.dropped(), 2u);  // l0 and l1
  EXPECT_EQ(q.queued(), 5u);
  EXPECT_EQ(q.take(t0), (std::vector<std::string>{"l2", "l3", "l4"}));  // the burst
  EXPECT_TRUE(q.take(t0 + std::chrono::milliseconds(100)).empty());
  EXPECT_GT(q.wait(t0 + std::chrono::milliseconds(100)).count(), 300);
  EXPECT_EQ(q.take(t0 + std::chrono::milliseconds(500)), (std::vector<std::string>{"l5"}));
  EXPECT_EQ(q.take(t0 + std::chrono::milliseconds(1000)), (std::vector<std::string>{"l6"}));
  EXPECT_EQ(q.wait(t0 + std::chrono::milliseconds(1000)).count(), 0);  // nothing waits
  q.push("x");
  q.clear();
  EXPECT_EQ(q.queued(), 0u);
}

}  // namespace
}  // namespace bb
