#pragma once
// Text that becomes HTML on the pages. Every string from outside (commit
// messages, authors, branch names, properties, step names, log lines, URLs)
// reaches a page through one of these or through the templates' escaping:
// none of them can open a tag, an attribute or a script.
#include <cstdint>
#include <string>
#include <string_view>

namespace bb::web {

// Log text as HTML: escaped, and ANSI SGR sequences (ESC [ ... m) turned
// into <span class="ansi-..."> for the 16 colours, bold and underline
// (classes, never inline styles). Other escape sequences are dropped; a
// sequence cut at the end of `text` is dropped too. Every span opened is
// closed by the end of the returned text.
std::string ansiToHtml(std::string_view text);

// `url` when it is safe as a link target: http://, https://, or a path
// that starts with one '/' (not "//", which names another host). Anything
// else (javascript:, data:, vbscript:, a relative "x:y") gives "", and the
// page shows the name without a link.
std::string safeHref(std::string_view url);

// Percent-encodes `part` for one URL path segment (a builder name with a
// '/' or a space stays one segment).
std::string urlSegment(std::string_view part);

// "2026-12-01 18:29:02" (UTC) for unix seconds; "" for 0.
std::string formatTime(std::int64_t unixSeconds);

// "3 s", "4 min 5 s", "2 h 10 min": a duration for people.
std::string formatDuration(std::int64_t seconds);

}  // namespace bb::web
