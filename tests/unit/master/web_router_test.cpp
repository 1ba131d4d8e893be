// The web route table and request helpers (master/web/router, http_message).
#include <gtest/gtest.h>

#include "master/web/router.hpp"

namespace bb::web {
namespace {

HttpRequest request(const std::string& method, const std::string& target) {
  HttpRequest r;
  r.method = method;
  r.target = target;
  splitTarget(r);
  return r;
}

TEST(WebRouter, MatchesPatternsAndPassesParameters) {
  Router router;
  router.add("GET", "/builders/{name}/builds/{number}", [](HttpRequest&, const PathParams& p) {
    return textResponse(p.at("name") + "#" + p.at("number"));
  });
  auto req = request("GET", "/builders/b%201/builds/7?x=1");
  const auto res = router.dispatch(req);
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body, "b 1#7");
  auto head = request("HEAD", "/builders/b/builds/1");
  EXPECT_EQ(router.dispatch(head).status, 200);
}

TEST(WebRouter, UnknownPathIs404AndWrongMethodIs405WithAllow) {
  Router router;
  router.add("GET", "/api/v2/builds", [](HttpRequest&, const PathParams&) { return jsonResponse(Json::object()); });
  router.add("POST", "/api/v2/builds", [](HttpRequest&, const PathParams&) { return jsonResponse(Json::object()); });
  auto missing = request("GET", "/api/v2/nothing");
  const auto r404 = router.dispatch(missing);
  EXPECT_EQ(r404.status, 404);
  EXPECT_EQ(Json::parse(r404.body)["code"], 404);
  auto del = request("DELETE", "/api/v2/builds");
  const auto r405 = router.dispatch(del);
  EXPECT_EQ(r405.status, 405);
  ASSERT_EQ(r405.headers.size(), 1u);
  EXPECT_EQ(r405.headers[0], (std::pair<std::string, std::string>{"Allow", "GET, POST"}));
  auto page = request("GET", "/no/page");
  const auto text = router.dispatch(page);
  EXPECT_EQ(text.contentType.rfind("text/plain", 0), 0u);
}

TEST(WebRouter, HttpErrorFromAHandlerBecomesItsResponse) {
  Router router;
  router.add("GET", "/api/v2/x", [](HttpRequest&, const PathParams&) -> HttpResponse { throw HttpError(409, "busy"); });
  auto req = request("GET", "/api/v2/x");
  const auto res = router.dispatch(req);
  EXPECT_EQ(res.status, 409);
  EXPECT_EQ(Json::parse(res.body), (Json{{"error", "busy"}, {"code", 409}}));
}

TEST(WebRequest, QueryAndPercentDecoding) {
  const auto r = request("GET", "/a%2Fb?x=1+2&y=%3D&flag&x=3");
  EXPECT_EQ(r.path, "/a/b");
  EXPECT_EQ(r.query.count("x"), 2u);
  EXPECT_EQ(r.param("x"), "1 2");
  EXPECT_EQ(r.param("y"), "=");
  EXPECT_TRUE(r.hasParam("flag"));
  EXPECT_THROW(request("GET", "/a%zz"), HttpError);
  EXPECT_THROW(request("GET", "/a%2"), HttpError);
  EXPECT_THROW(request("GET", "http://host/a"), HttpError);
  EXPECT_EQ(htmlEscape("<a href='x'>&\"</a>"), "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;");
}

}  // namespace
}  // namespace bb::web
