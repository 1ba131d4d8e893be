// GET /badges/{builder}.svg (and Buildbot's /plugins/badges/{builder}.svg):
// a small SVG with the result of the builder's last finished build.
#include "master/db/database.hpp"
#include "master/status/views.hpp"
#include "master/web/rest_common.hpp"

namespace bb::web {

namespace {

const char* colourOf(const std::string& result) {
  if (result == "success") return "#4c1";
  if (result == "warnings") return "#dfb317";
  if (result == "failure") return "#e05d44";
  if (result == "exception") return "#9f3fbf";
  return "#9f9f9f";  // skipped, retry, cancelled, no build yet
}

std::string badgeSvg(const std::string& label, const std::string& value) {
  // Verdana 11px is about 7 px a character: close enough for a badge.
  const int lw = 10 + 7 * static_cast<int>(label.size());
  const int vw = 10 + 7 * static_cast<int>(value.size());
  const std::string l = htmlEscape(label), v = htmlEscape(value);
  const std::string w = std::to_string(lw + vw);
  return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + w + "\" height=\"20\" role=\"img\" aria-label=\"" +
         l + ": " + v + "\"><title>" + l + ": " + v + "</title>" +
         "<rect width=\"" + std::to_string(lw) + "\" height=\"20\" fill=\"#555\"/>" +
         "<rect x=\"" + std::to_string(lw) + "\" width=\"" + std::to_string(vw) + "\" height=\"20\" fill=\"" +
         colourOf(value) + "\"/>" +
         "<g fill=\"#fff\" text-anchor=\"middle\" font-family=\"Verdana,DejaVu Sans,sans-serif\" font-size=\"11\">" +
         "<text x=\"" + std::to_string(lw / 2) + "\" y=\"14\">" + l + "</text>" +
         "<text x=\"" + std::to_string(lw + vw / 2) + "\" y=\"14\">" + v + "</text></g></svg>\n";
}

}  // namespace

void addBadges(Router& r, WebContext& ctx) {
  auto badge = [&ctx](HttpRequest& req, const PathParams& p) {
    ctx.requireRead(req);
    std::string name = p.at("file");
    if (name.size() < 5 || name.compare(name.size() - 4, 4, ".svg") != 0)
      throw HttpError(404, "badges are BUILDER.svg");
    name.resize(name.size() - 4);
    if (!ctx.config().findBuilder(name)) throw HttpError(404, "no builder named '" + name + "'");
    std::string value = "no builds";
    for (const auto& b : ctx.db.lastBuilds(name, 20))
      if (b.finished && !isTryBuild(b)) {
        value = std::string(toString(b.result));
        break;
      }
    HttpResponse res;
    res.contentType = "image/svg+xml";
    res.body = badgeSvg(name, value);
    res.headers.emplace_back("Cache-Control", "no-cache");
    return res;
  };
  r.add("GET", "/badges/{file}", badge);
  r.add("GET", "/plugins/badges/{file}", badge);
}

}  // namespace bb::web
