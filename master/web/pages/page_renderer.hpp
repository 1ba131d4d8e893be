#pragma once
// Server-rendered pages: a mustache template from templates/ (embedded in
// the program) filled from a JSON context, inside the common layout.
// Every {{value}} is HTML-escaped; only fragments this project made from
// escaped text (html_text.hpp) go in through {{{triple}}} braces.
#include <string>
#include <string_view>

#include "common/message.hpp"  // Json

namespace bb::web {

// What every page needs to know about the site.
struct Site {
  std::string base;   // path prefix from master.url ("" or "/ci"): every link starts with it
  std::string title;  // the master's name
  std::string user;   // who is logged in ("" when nobody)
};

// The page `name` (templates/NAME.mustache) rendered with `context`, with
// `base` set, inside layout.mustache with `pageTitle`. Every template is
// also a partial ({{> name}}). Throws std::runtime_error for an unknown
// template (a programming error, not user input).
std::string renderPage(const std::string& name, const std::string& pageTitle, const Json& context,
                       const Site& site);

// A file of static/ (bb.css, bb.js), or an empty view when there is none.
std::string_view staticFile(std::string_view name);

// Defined in the generated web_assets.cpp (cmake/embed_assets.cmake).
std::string_view embeddedAsset(std::string_view name);

}  // namespace bb::web
