#pragma once
// A running step's named URLs: the ones its config gives (`urls:`, rendered
// with the build's properties when it starts) and the ones its command
// announces with a line of output
//
//   ##buildbot-url NAME URL
//
// at the start of a line on stdout or stderr (NAME may hold spaces; the
// URL is the last word). The same name again replaces that URL. Bounds
// (config/step_url.hpp): 20 URLs a step, names of 100 bytes, URLs of 2048;
// a marker line that breaks them is not taken and a header line in the log
// says why. Only a marker's line is buffered across output chunks, and at
// most one bounded line per stream.
#include <array>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/message.hpp"  // Json

namespace bb {

class StepUrls {
 public:
  static constexpr std::string_view kMarker = "##buildbot-url ";

  // Adds or replaces `name`; the reason when the pair is refused.
  std::optional<std::string> add(const std::string& name, const std::string& url);
  // Scans one chunk of the command's output on `stream` (0 stdout, 1
  // stderr; 2, the slave's own header lines, is not scanned). A marker
  // line that is not taken calls `refused(why)`. Returns whether the list
  // changed.
  bool scan(int stream, std::string_view data, const std::function<void(const std::string&)>& refused);
  // [{name, url}] in the order first added.
  Json toJson() const;
  bool empty() const { return urls_.empty(); }

 private:
  // One marker line, complete: taken or refused.
  bool takeLine(std::string line, const std::function<void(const std::string&)>& refused);

  struct Line {
    std::string text;      // the start of the current line, while it may be a marker
    bool atStart = true;   // the next byte starts a line
    bool skipping = false; // the current line is not a marker (or too long): wait for '\n'
  };
  std::array<Line, 2> lines_;
  std::vector<std::pair<std::string, std::string>> urls_;
};

}  // namespace bb
