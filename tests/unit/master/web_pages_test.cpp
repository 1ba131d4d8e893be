// The pages' text handling and templates (master/web/pages/): hostile text
// stays text, ANSI colours become classes, unsafe URLs are not links, every
// link starts with the site's base path.
#include <gtest/gtest.h>

#include "master/web/pages/html_text.hpp"
#include "master/web/pages/page_renderer.hpp"

namespace bb::web {
namespace {

TEST(HtmlText, AnsiColoursBecomeClassesAndEverySpanIsClosed) {
  EXPECT_EQ(ansiToHtml("\x1b[31mred\x1b[0m plain"),
            "<span class=\"ansi-fg-1\">red</span> plain");
  EXPECT_EQ(ansiToHtml("\x1b[1;92mbold green"),
            "<span class=\"ansi-fg-10 ansi-bold\">bold green</span>");
  // A colour change closes the open span before opening the next.
  EXPECT_EQ(ansiToHtml("\x1b[32ma\x1b[34mb\x1b[m"),
            "<span class=\"ansi-fg-2\">a</span><span class=\"ansi-fg-4\">b</span>");
}

TEST(HtmlText, AnsiMixedWithHtmlStaysText) {
  const std::string out = ansiToHtml("\x1b[31m<img src=x onerror=alert(1)>\x1b[0m");
  EXPECT_EQ(out, "<span class=\"ansi-fg-1\">&lt;img src=x onerror=alert(1)&gt;</span>");
  // An escape sequence cannot smuggle markup either: the sequence
  // (ESC [ < s) is dropped and what follows is escaped text.
  EXPECT_EQ(ansiToHtml("a\x1b[<script>mb"), "acript&gt;mb");
}

TEST(HtmlText, OtherSequencesAndControlCharactersAreDropped) {
  EXPECT_EQ(ansiToHtml("x\x1b[2Ky\x1b[?25lz\x07!"), "xyz!");
  EXPECT_EQ(ansiToHtml("\x1b[38;5;196mc\x1b[0m"), "c");  // 256 colours: text kept, no class
  EXPECT_EQ(ansiToHtml("cut at the end\x1b[3"), "cut at the end");
  EXPECT_EQ(ansiToHtml("lone\x1b"), "lone");
  EXPECT_EQ(ansiToHtml("line\r\n\tnext"), "line\r\n\tnext");
}

TEST(HtmlText, OnlyHttpAndSameSitePathsAreLinks) {
  EXPECT_EQ(safeHref("https://ci.example.org/x?a=1"), "https://ci.example.org/x?a=1");
  EXPECT_EQ(safeHref("HTTP://example.org"), "HTTP://example.org");
  EXPECT_EQ(safeHref("/builders/a"), "/builders/a");
  EXPECT_EQ(safeHref("javascript:alert(1)"), "");
  EXPECT_EQ(safeHref("JaVaScRiPt:alert(1)"), "");
  EXPECT_EQ(safeHref("java\tscript:alert(1)"), "");
  EXPECT_EQ(safeHref(" https://x"), "");
  EXPECT_EQ(safeHref("data:text/html,<script>"), "");
  EXPECT_EQ(safeHref("//evil.example.org/"), "");
  EXPECT_EQ(safeHref("/\\evil.example.org/"), "");
  EXPECT_EQ(safeHref("relative/path"), "");
}

TEST(HtmlText, UrlSegmentsKeepANameInOneSegment) {
  EXPECT_EQ(urlSegment("linux build/x86"), "linux%20build%2Fx86");
  EXPECT_EQ(urlSegment("a-b_c.d~e"), "a-b_c.d~e");
  EXPECT_EQ(urlSegment("\"><"), "%22%3E%3C");
}

TEST(HtmlText, TimesAndDurationsReadAsPeopleWriteThem) {
  EXPECT_EQ(formatTime(0), "");
  EXPECT_EQ(formatTime(1764613742), "2025-12-01 18:29:02");
  EXPECT_EQ(formatDuration(5), "5 s");
  EXPECT_EQ(formatDuration(245), "4 min 5 s");
  EXPECT_EQ(formatDuration(7800), "2 h 10 min");
}

TEST(PageRenderer, ValuesAreEscapedAndLinksStartWithTheBase) {
  const Site site{"/ci", "my <master>", ""};
  Json ctx{{"changes", Json::array({Json{{"id", 7},
                                         {"href", "/ci/changes/7"},
                                         {"author", "<script>alert(1)</script>"},
                                         {"branch", "\"onmouseover=alert(1)"},
                                         {"revision_short", "abc"},
                                         {"comments", "x' onerror='y"},
                                         {"when_text", ""}}})}};
  const std::string html = renderPage("changes", "Changes", ctx, site);
  EXPECT_EQ(html.find("<script>alert"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(html.find("&quot;onmouseover=alert(1)"), std::string::npos);
  EXPECT_NE(html.find("x&apos; onerror=&apos;y"), std::string::npos);
  EXPECT_NE(html.find("my &lt;master&gt;"), std::string::npos);
  EXPECT_NE(html.find("href=\"/ci/static/bb.css\""), std::string::npos);
  EXPECT_NE(html.find("href=\"/ci/waterfall\""), std::string::npos);
  EXPECT_NE(html.find("href=\"/ci/changes/7\""), std::string::npos);
}

TEST(PageRenderer, AnUnknownTemplateIsAnError) {
  EXPECT_THROW(renderPage("no-such-page", "x", Json::object(), Site{}), std::runtime_error);
}

TEST(PageRenderer, StaticFilesAreServedButTemplatesAreNot) {
  EXPECT_NE(staticFile("bb.css").find(".result-success"), std::string_view::npos);
  EXPECT_NE(staticFile("bb.js").find("EventSource"), std::string_view::npos);
  EXPECT_TRUE(staticFile("layout.mustache").empty());
  EXPECT_TRUE(staticFile("nothing.js").empty());
}

}  // namespace
}  // namespace bb::web
