// The mail on the wire: headers (encoded words for non-ASCII, never a
// split UTF-8 sequence), quoted-printable text, base64 attachments, the
// MIME structure; templates and addresses.
#include <gtest/gtest.h>

#include "master/reporters/mail_address.hpp"
#include "master/reporters/mail_message.hpp"
#include "master/reporters/mail_template.hpp"

namespace bb {
namespace {

TEST(MailMessage, AsciiHeadersStayAsTheyAre) {
  EXPECT_EQ(encodeHeaderText("[ci] b1 #3: failure"), "[ci] b1 #3: failure");
  EXPECT_EQ(encodeAddress("ci@example.org"), "ci@example.org");
  EXPECT_EQ(encodeAddress("CI Bot <ci@example.org>"), "\"CI Bot\" <ci@example.org>");
}

TEST(MailMessage, NonAsciiHeadersAreEncodedWordsOfWholeCharacters) {
  EXPECT_EQ(encodeHeaderText("é"), "=?UTF-8?B?w6k=?=");
  // 40 two-byte characters: 80 bytes, more than one word holds.
  std::string text;
  for (int i = 0; i < 40; ++i) text += "é";
  const std::string enc = encodeHeaderText(text);
  EXPECT_NE(enc.find("\r\n "), std::string::npos) << enc;
  std::size_t start = 0;
  while (start < enc.size()) {
    auto end = enc.find("\r\n ", start);
    if (end == std::string::npos) end = enc.size();
    const std::string word = enc.substr(start, end - start);
    EXPECT_LE(word.size(), 75u) << word;
    EXPECT_EQ(word.rfind("=?UTF-8?B?", 0), 0u);
    start = end + 3;
  }
  // 45 bytes per word: an odd split would cut "é" in two; 44 bytes = 22
  // characters fit, so the first word is base64 of 44 bytes (60 chars).
  EXPECT_EQ(enc.find("?=\r\n "), std::string("=?UTF-8?B?").size() + 60) << enc;
  EXPECT_EQ(encodeAddress("Zoë <zoe@example.org>"), "=?UTF-8?B?Wm/Dqw==?= <zoe@example.org>");
}

TEST(MailMessage, QuotedPrintableKeepsLinesShortAndEncodesWhatItMust) {
  EXPECT_EQ(quotedPrintable("a=b\n"), "a=3Db\r\n");
  EXPECT_EQ(quotedPrintable("trailing \nx"), "trailing=20\r\nx\r\n");
  EXPECT_EQ(quotedPrintable("é\n"), "=C3=A9\r\n");
  const std::string qp = quotedPrintable(std::string(200, 'x') + "\n");
  std::size_t start = 0;
  while (start < qp.size()) {
    const auto end = qp.find("\r\n", start);
    EXPECT_LE(end - start, 76u);
    start = end + 2;
  }
}

TEST(MailMessage, RendersAMultipartMessage) {
  MailMessage m;
  m.from = "CI <ci@example.org>";
  m.to = {"a@example.org", "Bé <b@example.org>"};
  m.subject = "[ci] b1 #1: success";
  m.body = "hello\n";
  m.attachments.push_back({"1-make-stdio.log", "abc"});
  m.attachments.push_back({"weird name/../x.log", "x"});
  m.date = 0;
  m.messageId = "bb.1@example.org";
  const std::string text = renderMail(m, "BOUNDARY");
  EXPECT_NE(text.find("From: \"CI\" <ci@example.org>\r\n"), std::string::npos) << text;
  EXPECT_NE(text.find("To: a@example.org,\r\n =?UTF-8?B?QsOp?= <b@example.org>\r\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("Date: Thu, 01 Jan 1970 00:00:00 +0000\r\n"), std::string::npos) << text;
  EXPECT_NE(text.find("Message-ID: <bb.1@example.org>\r\n"), std::string::npos);
  EXPECT_NE(text.find("MIME-Version: 1.0\r\n"), std::string::npos);
  EXPECT_NE(text.find("Content-Type: multipart/mixed; boundary=\"BOUNDARY\"\r\n"), std::string::npos);
  EXPECT_NE(text.find("filename=\"1-make-stdio.log\""), std::string::npos);
  EXPECT_NE(text.find("filename=\"weird_name_.._x.log\""), std::string::npos) << "no '/' in a file name";
  EXPECT_NE(text.find("\r\nYWJj\r\n"), std::string::npos) << "abc in base64";
  EXPECT_NE(text.find("--BOUNDARY--\r\n"), std::string::npos);
  EXPECT_EQ(mailDate(1796151554), "Tue, 01 Dec 2026 18:59:14 +0000");
}

// A change's author is outside text: a line break in its name must not
// become a header of its own.
TEST(MailMessage, ANameWithALineBreakCannotAddAHeader) {
  MailMessage m;
  m.from = "ci@example.org";
  m.to = {"Evil\r\nBcc: victim@example.org <evil@example.org>"};
  m.subject = "s\r\nBcc: victim@example.org";
  m.messageId = "x@example.org";
  const std::string text = renderMail(m, "B");
  EXPECT_EQ(text.find("\r\nBcc:"), std::string::npos) << text;
  EXPECT_NE(text.find("<evil@example.org>"), std::string::npos) << text;
}

TEST(MailAddress, TakesBareAndNamedAddresses) {
  EXPECT_EQ(mailAddress("dev@example.org"), "dev@example.org");
  EXPECT_EQ(mailAddress("Carol Doe <carol@example.org>"), "carol@example.org");
  EXPECT_EQ(mailAddress("root@localhost"), "root@localhost");
  EXPECT_EQ(mailDisplayName("\"Doe, Carol\" <carol@example.org>"), "Doe, Carol");
  EXPECT_FALSE(mailAddress("alice"));
  EXPECT_FALSE(mailAddress("a b@example.org"));
  EXPECT_FALSE(mailAddress("a@b"));
  EXPECT_FALSE(mailAddress("a@@example.org"));
  EXPECT_FALSE(mailAddress("Carol <carol@example.org"));
}

TEST(MailTemplate, FillsPlaceholdersAndChecksThem) {
  EXPECT_EQ(renderMailTemplate("{builder} #{number} {{x}}", {{"builder", "b1"}, {"number", "3"}}),
            "b1 #3 {x}");
  EXPECT_FALSE(checkMailTemplate("{builder} {url} {{literal}}"));
  EXPECT_EQ(checkMailTemplate("{nope}").value_or("").rfind("unknown placeholder {nope}", 0), 0u);
  EXPECT_TRUE(checkMailTemplate("a { b"));
  EXPECT_TRUE(checkMailTemplate("a } b"));
  EXPECT_FALSE(checkMailTemplate(kDefaultBody));
  EXPECT_FALSE(checkMailTemplate(kDefaultBuildSubject));
  EXPECT_FALSE(checkMailTemplate(kDefaultBuildsetSubject));
}

}  // namespace
}  // namespace bb
