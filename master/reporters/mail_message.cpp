#include "master/reporters/mail_message.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>
#include <random>

#include "master/reporters/mail_address.hpp"

namespace bb {

namespace {

constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string base64(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(in[i]) << 16) |
                       (static_cast<unsigned char>(in[i + 1]) << 8) | static_cast<unsigned char>(in[i + 2]);
    out += kB64[(v >> 18) & 63];
    out += kB64[(v >> 12) & 63];
    out += kB64[(v >> 6) & 63];
    out += kB64[v & 63];
  }
  if (i < in.size()) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    out += kB64[(v >> 18) & 63];
    out += kB64[(v >> 12) & 63];
    out += i + 1 < in.size() ? kB64[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

bool printableAscii(std::string_view s) {
  for (unsigned char c : s)
    if (c < 0x20 || c > 0x7e) return false;
  return true;
}

// ASCII letters, digits and ._- ; anything else becomes '_'.
std::string safeFilename(const std::string& name) {
  std::string out;
  for (unsigned char c : name)
    out += (std::isalnum(c) || c == '.' || c == '-' || c == '_') ? static_cast<char>(c) : '_';
  return out.empty() ? "log.txt" : out;
}

}  // namespace

std::string base64Lines(std::string_view data) {
  const std::string b = base64(data);
  std::string out;
  for (std::size_t i = 0; i < b.size(); i += 76) out += b.substr(i, 76) + "\r\n";
  return out;
}

std::string encodeHeaderText(std::string_view text) {
  if (printableAscii(text)) return std::string(text);
  // 45 bytes of text -> 60 characters of base64 + 12 of "=?UTF-8?B??=".
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t end = std::min(text.size(), i + 45);
    // Back up to the start of a UTF-8 sequence.
    while (end < text.size() && end > i && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
    if (end == i) end = std::min(text.size(), i + 45);
    if (!out.empty()) out += "\r\n ";
    out += "=?UTF-8?B?" + base64(text.substr(i, end - i)) + "?=";
    i = end;
  }
  return out;
}

std::string encodeAddress(const std::string& nameAndAddress) {
  const auto addr = mailAddress(nameAndAddress);
  if (!addr) return encodeHeaderText(nameAndAddress);
  const std::string name = mailDisplayName(nameAndAddress);
  if (name.empty()) return *addr;
  if (printableAscii(name)) {
    std::string quoted = "\"";
    for (char c : name) {
      if (c == '"' || c == '\\') quoted += '\\';
      quoted += c;
    }
    return quoted + "\" <" + *addr + ">";
  }
  return encodeHeaderText(name) + " <" + *addr + ">";
}

std::string quotedPrintable(std::string_view text) {
  static const char hex[] = "0123456789ABCDEF";
  std::string out, line;
  auto flush = [&](bool hard) {
    out += line;
    out += hard ? "\r\n" : "=\r\n";
    line.clear();
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      // Trailing whitespace before a line end is encoded, or it is lost.
      if (!line.empty() && (line.back() == ' ' || line.back() == '\t')) {
        const char ws = line.back();
        line.pop_back();
        line += ws == ' ' ? "=20" : "=09";
      }
      flush(true);
      continue;
    }
    if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') continue;
    std::string enc;
    if ((c >= 33 && c <= 126 && c != '=') || c == ' ' || c == '\t') {
      enc = static_cast<char>(c);
    } else {
      enc = {'=', hex[c >> 4], hex[c & 15]};
    }
    if (line.size() + enc.size() > 75) flush(false);
    line += enc;
  }
  if (!line.empty()) {
    if (line.back() == ' ' || line.back() == '\t') line += "=";
    out += line + "\r\n";
  }
  return out;
}

std::string mailDate(std::int64_t unixSeconds) {
  std::time_t t = static_cast<std::time_t>(unixSeconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  static const char* days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday], tm.tm_mday,
                months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

std::string makeBoundary() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  char buf[40];
  std::snprintf(buf, sizeof buf, "=_bb_%016llx%08x", static_cast<unsigned long long>(rng()),
                static_cast<unsigned>(rng()));
  return buf;
}

std::string renderMail(const MailMessage& m, const std::string& boundary) {
  std::string to;
  // Encoded as the From is: a display name (an author's, from a change)
  // with a line break in it cannot add a header.
  for (const auto& a : m.to) to += (to.empty() ? "" : ",\r\n ") + encodeAddress(a);
  std::string out;
  out += "From: " + encodeAddress(m.from) + "\r\n";
  out += "To: " + to + "\r\n";
  out += "Subject: " + encodeHeaderText(m.subject) + "\r\n";
  out += "Date: " + mailDate(m.date) + "\r\n";
  out += "Message-ID: <" + m.messageId + ">\r\n";
  out += "MIME-Version: 1.0\r\n";
  out += "Content-Type: multipart/mixed; boundary=\"" + boundary + "\"\r\n";
  out += "\r\nThis is a MIME message.\r\n";
  out += "--" + boundary + "\r\n";
  out += "Content-Type: text/plain; charset=utf-8\r\n";
  out += "Content-Transfer-Encoding: quoted-printable\r\n\r\n";
  out += quotedPrintable(m.body);
  for (const auto& a : m.attachments) {
    const std::string name = safeFilename(a.filename);
    out += "--" + boundary + "\r\n";
    out += "Content-Type: text/plain; charset=utf-8; name=\"" + name + "\"\r\n";
    out += "Content-Disposition: attachment; filename=\"" + name + "\"\r\n";
    out += "Content-Transfer-Encoding: base64\r\n\r\n";
    out += base64Lines(a.content);
  }
  out += "--" + boundary + "--\r\n";
  return out;
}

}  // namespace bb
