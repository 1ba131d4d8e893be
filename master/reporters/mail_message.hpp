#pragma once
// One mail as it goes on the wire: RFC 5322 headers (non-ASCII ones as
// RFC 2047 encoded words), a multipart/mixed MIME body with the text as
// its first part (quoted-printable, UTF-8) and each attachment as a
// text/plain part (base64).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bb {

struct MailAttachment {
  std::string filename;  // made ASCII-safe when rendered
  std::string content;
};

struct MailMessage {
  std::string from;             // "Name <addr>" or addr
  std::vector<std::string> to;  // addresses (envelope and To: header)
  std::string subject;
  std::string body;
  std::vector<MailAttachment> attachments;
  std::int64_t date = 0;  // unix seconds
  std::string messageId;  // without angle brackets: "LOCAL@DOMAIN"
};

// The whole message, CRLF line ends. `boundary` must not occur in any part
// (makeBoundary() gives one that does not, in practice).
std::string renderMail(const MailMessage& m, const std::string& boundary);
// A random boundary string.
std::string makeBoundary();

// `text` as is when it is printable ASCII, else as RFC 2047 encoded
// words (=?UTF-8?B?...?=), each at most 75 characters, never splitting a
// UTF-8 sequence.
std::string encodeHeaderText(std::string_view text);
// An address header value: the display name encoded, the address kept.
std::string encodeAddress(const std::string& nameAndAddress);
std::string base64Lines(std::string_view data);  // 76-character lines, CRLF
std::string quotedPrintable(std::string_view text);
// "Tue, 01 Dec 2026 18:30:55 +0000".
std::string mailDate(std::int64_t unixSeconds);

}  // namespace bb
