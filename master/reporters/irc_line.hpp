#pragma once
// One IRC protocol line (RFC 1459 / 2812): parsed from what the server
// sends, and the flood control of what the bot sends (a token bucket in
// front of a bounded queue that drops its oldest line when full).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "common/event_loop.hpp"  // SteadyTime

namespace bb {

struct IrcLine {
  std::string prefix;   // "nick!user@host" or a server name; "" if none
  std::string command;  // "PRIVMSG", "001", ... (upper case as sent)
  std::vector<std::string> params;  // the trailing one included
  // The nick of the prefix ("nick" of "nick!user@host").
  std::string nick() const;
  std::string param(std::size_t i) const { return i < params.size() ? params[i] : std::string(); }
};

// nullopt for an empty line or one without a command. Tags (@...) are
// skipped; a trailing '\r' is ignored.
std::optional<IrcLine> parseIrcLine(const std::string& raw);

// Whether `nick` matches the glob `pattern` (* and ?), case-insensitively
// in IRC's sense ([]\ are the upper case of {}|).
bool ircNickMatches(const std::string& pattern, const std::string& nick);

// Splits a reply into PRIVMSG-sized pieces: at newlines, and lines longer
// than `max` bytes at a space where possible. Control characters but
// IRC's formatting ones are replaced by spaces.
std::vector<std::string> splitIrcText(const std::string& text, std::size_t max = 400);

class IrcSendQueue {
 public:
  IrcSendQueue(double ratePerSecond, int burst, std::size_t maxQueued);
  // Queues a line; when full, the oldest line is dropped (counted).
  void push(std::string line);
  // The lines the bucket lets go at `now`, in order.
  std::vector<std::string> take(SteadyTime now);
  // How long until the next line may go; zero when one may go now or
  // nothing waits.
  std::chrono::milliseconds wait(SteadyTime now) const;
  // Forgets the waiting lines (a connection that closed); refills the bucket.
  void clear();
  std::size_t queued() const { return lines_.size(); }
  std::uint64_t dropped() const { return dropped_; }

 private:
  void refill(SteadyTime now);
  double rate_, burst_, tokens_;
  std::size_t max_;
  std::optional<SteadyTime> last_;
  std::deque<std::string> lines_;
  std::uint64_t dropped_ = 0;
};

}  // namespace bb
