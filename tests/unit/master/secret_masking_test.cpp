// Secret values are masked in whole texts, JSON, and output that arrives
// in chunks (a secret split at any byte, overlapping secrets, UTF-8), and
// a LogWriter with masking stores no secret whatever the flush timer does.
#include <gtest/gtest.h>

#include <optional>

#include "common/event_loop.hpp"
#include "master/db/database.hpp"
#include "master/process/log_writer.hpp"
#include "master/secrets/secret_store.hpp"
#include "master/secrets/stream_masker.hpp"
#include "tests/unit/master/one_log_db.hpp"

namespace bb {
namespace {

std::shared_ptr<const SecretStore> store(SecretValues v) {
  return std::make_shared<const SecretStore>(std::move(v));
}

// Feeds `parts` in order on stream 0, then drains; returns the output and
// checks that every input byte is accounted for exactly once.
std::string streamed(const std::shared_ptr<const SecretStore>& s,
                     const std::vector<std::string>& parts) {
  StreamMasker m(s);
  std::string out;
  std::size_t in = 0, consumed = 0, used = 0;
  for (const auto& p : parts) {
    in += p.size();
    out += m.feed(0, p, used);
    consumed += used;
  }
  for (const auto& [stream, text] : m.drain(used)) out += text;
  consumed += used;
  EXPECT_EQ(consumed, in);
  EXPECT_EQ(m.held(), 0u);
  return out;
}

TEST(SecretStore, MasksEveryOccurrenceWithItsName) {
  auto s = store({{"token", "hunter22"}, {"key", "AKIA-123"}});
  EXPECT_EQ(s->mask("a hunter22 b AKIA-123 c hunter22"),
            "a <secret:token> b <secret:key> c <secret:token>");
  EXPECT_EQ(s->mask("nothing here"), "nothing here");
  EXPECT_EQ(s->longest(), 8u);
}

TEST(SecretStore, OverlappingAndContainedSecretsLeaveNoByteOfEither) {
  auto s = store({{"A", "abcdef"}, {"B", "defghi"}, {"C", "cdef"}});
  EXPECT_EQ(s->mask("x abcdefghi y"), "x <secret:A><secret:C><secret:B> y");
  // Touching occurrences are one region too.
  EXPECT_EQ(s->mask("abcdefdefghi"), "<secret:A><secret:C><secret:B>");
  EXPECT_EQ(s->mask("-cdef-"), "-<secret:C>-");
}

TEST(SecretStore, SecretsShorterThanTheMinimumAreNotMasked) {
  auto s = store({{"short", "abc"}, {"ok", "abcd"}});
  EXPECT_EQ(s->mask("abc abcd"), "abc <secret:ok>");
}

TEST(SecretStore, MasksInsideJsonStringsAndKeys) {
  auto s = store({{"t", "s3cr3t!"}});
  Json j{{"text", "failed: s3cr3t! rejected"},
         {"list", Json::array({1, "s3cr3t!"})},
         {"s3cr3t!", true}};
  Json m = s->maskJson(j);
  EXPECT_EQ(m["text"], "failed: <secret:t> rejected");
  EXPECT_EQ(m["list"][1], "<secret:t>");
  EXPECT_TRUE(m.contains("<secret:t>"));
  EXPECT_EQ(m.dump().find("s3cr3t!"), std::string::npos) << m.dump();
}

TEST(SecretStore, HeldSuffixIsTheLongestEndThatBeginsASecret) {
  auto s = store({{"a", "aaab"}, {"k", "key-0123456789"}});
  EXPECT_EQ(s->heldSuffix("xaaa"), 3u);
  EXPECT_EQ(s->heldSuffix("aaaa"), 3u);
  EXPECT_EQ(s->heldSuffix("aaab"), 0u);  // a whole secret is not held by this rule
  EXPECT_EQ(s->heldSuffix("the key-0123"), 8u);
  EXPECT_EQ(s->heldSuffix("the key-0124"), 0u);
  EXPECT_EQ(s->heldSuffix(""), 0u);
  EXPECT_EQ(s->heldSuffix("k"), 1u);
}

TEST(StreamMasker, ASecretSplitAtEveryOffsetIsMasked) {
  const std::string secret = "correct-horse-battery";
  auto s = store({{"pw", secret}});
  const std::string text = "login " + secret + " ok\n";
  for (std::size_t i = 0; i <= text.size(); ++i) {
    const std::string out = streamed(s, {text.substr(0, i), text.substr(i)});
    EXPECT_EQ(out, "login <secret:pw> ok\n") << "split at " << i;
  }
}

TEST(StreamMasker, ASecretSplitIntoThreeChunksAtEveryPairOfOffsetsIsMasked) {
  const std::string secret = "p4ss-w0rd";
  auto s = store({{"pw", secret}});
  const std::string text = "x" + secret + "y";
  for (std::size_t i = 0; i <= text.size(); ++i)
    for (std::size_t j = i; j <= text.size(); ++j)
      EXPECT_EQ(streamed(s, {text.substr(0, i), text.substr(i, j - i), text.substr(j)}),
                "x<secret:pw>y")
          << i << "," << j;
}

TEST(StreamMasker, MultiByteUtf8SecretSplitInsideACharacter) {
  const std::string secret = "p\xC3\xA4ssw\xC3\xB6rd\xE2\x82\xAC";  // "pässwörd€"
  auto s = store({{"u", secret}});
  const std::string text = "\xC3\xA9t\xC3\xA9 " + secret + " \xE2\x82\xAC";
  for (std::size_t i = 0; i <= text.size(); ++i)
    EXPECT_EQ(streamed(s, {text.substr(0, i), text.substr(i)}),
              "\xC3\xA9t\xC3\xA9 <secret:u> \xE2\x82\xAC")
        << "split at " << i;
}

TEST(StreamMasker, OverlappingSecretsAcrossAChunkBoundary) {
  auto s = store({{"A", "abcd"}, {"B", "cdef"}});
  const std::string text = "xxabcdefyy";
  for (std::size_t i = 0; i <= text.size(); ++i)
    EXPECT_EQ(streamed(s, {text.substr(0, i), text.substr(i)}), "xx<secret:A><secret:B>yy")
        << "split at " << i;
}

TEST(StreamMasker, HoldsOnlyWhatMayBeginASecret) {
  auto s = store({{"pw", "secret-value"}});
  StreamMasker m(s);
  std::size_t used = 0;
  EXPECT_EQ(m.feed(0, "hello world\n", used), "hello world\n");
  EXPECT_EQ(used, 12u);
  EXPECT_EQ(m.feed(0, "password: secr", used), "password: ");
  EXPECT_EQ(m.held(), 4u);
  // Not a secret after all: released with the next output.
  EXPECT_EQ(m.feed(0, "ecy\n", used), "secrecy\n");
  EXPECT_EQ(m.held(), 0u);
}

TEST(StreamMasker, StreamsAreHeldApart) {
  auto s = store({{"pw", "secret-value"}});
  StreamMasker m(s);
  std::size_t used = 0;
  std::string out0 = m.feed(0, "a secret-", used);
  std::string out1 = m.feed(1, "warning: secret-value\n", used);
  out0 += m.feed(0, "value b", used);
  EXPECT_EQ(out0, "a <secret:pw> b");
  EXPECT_EQ(out1, "warning: <secret:pw>\n");
}

class LogWriterMasking : public ::testing::Test, protected test::OneLogDb {
 protected:
  ManualClock clock;
};

TEST_F(LogWriterMasking, ASecretSplitAcrossTwoChunksWithAFlushBetweenIsNeverStored) {
  const std::string secret = "tok-0123456789";
  std::int64_t input = 0, storedBytes = 0;
  LogWriter w(db, logId, &clock, [&](const LogStored& st) {
    input += st.inputBytes;
    storedBytes += st.endByte - st.firstByte;
  });
  w.setMasking(store({{"deploy", secret}}));
  w.append(0, "using tok-01234");
  clock.advance(LogWriter::kFlushDelay * 3);  // the flush timer fires between the chunks
  EXPECT_EQ(stored(), "using ");
  w.append(0, "56789 now\n");
  clock.advance(LogWriter::kFlushDelay * 3);
  EXPECT_EQ(stored(), "using <secret:deploy> now\n");
  w.append(0, "bye tok-0");
  w.finish();
  const std::string all = stored();
  EXPECT_EQ(all, "using <secret:deploy> now\nbye tok-0");
  EXPECT_EQ(all.find(secret), std::string::npos);
  EXPECT_EQ(input, static_cast<std::int64_t>(15 + 10 + 9));
  EXPECT_EQ(storedBytes, static_cast<std::int64_t>(all.size()));
}

TEST_F(LogWriterMasking, WithoutSecretsNothingIsHeld) {
  LogWriter w(db, logId, &clock);
  w.setMasking(store({}));
  w.append(0, "tok-01");
  clock.advance(LogWriter::kFlushDelay * 3);
  EXPECT_EQ(stored(), "tok-01");
}

}  // namespace
}  // namespace bb
