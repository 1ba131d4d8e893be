#include "common/interpolate.hpp"

#include <gtest/gtest.h>

namespace bb {
namespace {

Properties interpolateSample() {
  Properties p;
  p.set("branch", "main", "Scheduler");
  p.set("revision", "abc123", "Change");
  p.set("empty", "", "Builder");
  p.set("jobs", 4, "Builder");
  p.set("zero", 0, "Builder");
  p.set("off", false, "Builder");
  p.set("on", true, "Builder");
  p.set("nothing", nullptr, "Builder");
  p.set("list", Json::array({1, "a"}), "Builder");
  p.set("nolist", Json::array(), "Builder");
  return p;
}

TEST(Properties, SetGetHasAndSource) {
  Properties p;
  EXPECT_FALSE(p.has("x"));
  EXPECT_EQ(p.get("x"), nullptr);
  p.set("x", 3, "Builder");
  ASSERT_NE(p.get("x"), nullptr);
  EXPECT_EQ(*p.get("x"), Json(3));
  EXPECT_EQ(*p.sourceOf("x"), "Builder");
  p.set("x", "y", "Force");
  EXPECT_EQ(*p.get("x"), Json("y"));
  EXPECT_EQ(*p.sourceOf("x"), "Force");
  EXPECT_EQ(p.size(), 1u);
  EXPECT_TRUE(p.erase("x"));
  EXPECT_FALSE(p.erase("x"));
}

TEST(Properties, AsStringRendersValues) {
  Properties p = interpolateSample();
  EXPECT_EQ(p.asString("branch"), "main");
  EXPECT_EQ(p.asString("jobs"), "4");
  EXPECT_EQ(p.asString("on"), "true");
  EXPECT_EQ(p.asString("nothing"), "");
  EXPECT_EQ(p.asString("list"), "[1,\"a\"]");
  EXPECT_THROW(p.asString("missing"), InterpolationError);
}

TEST(Properties, JsonRoundTrip) {
  Properties p = interpolateSample();
  Json j = p.toJson();
  EXPECT_EQ(j["branch"], Json::array({"main", "Scheduler"}));
  EXPECT_EQ(j["jobs"], Json::array({4, "Builder"}));
  Properties q = Properties::fromJson(j);
  EXPECT_EQ(q.toJson(), j);
  EXPECT_EQ(*q.sourceOf("revision"), "Change");
}

TEST(Properties, FromJsonRejectsBadShapes) {
  EXPECT_THROW(Properties::fromJson(Json::array()), std::invalid_argument);
  EXPECT_THROW(Properties::fromJson(Json{{"a", 1}}), std::invalid_argument);
  EXPECT_THROW(Properties::fromJson(Json{{"a", Json::array({1, 2})}}), std::invalid_argument);
  EXPECT_THROW(Properties::fromJson(Json{{"a", Json::array({1})}}), std::invalid_argument);
}

TEST(Properties, UpdateReplaces) {
  Properties a;
  a.set("x", 1, "Builder");
  a.set("y", 2, "Builder");
  Properties b;
  b.set("y", 3, "Force");
  a.update(b);
  EXPECT_EQ(*a.get("x"), Json(1));
  EXPECT_EQ(*a.get("y"), Json(3));
  EXPECT_EQ(*a.sourceOf("y"), "Force");
}

TEST(Interpolate, PlainTextAndPercent) {
  Properties p = interpolateSample();
  EXPECT_EQ(interpolate("make -j2", p), "make -j2");
  EXPECT_EQ(interpolate("100%% done", p), "100% done");
  EXPECT_EQ(interpolate("date +%s", p), "date +%s");
  EXPECT_EQ(interpolate("trailing %", p), "trailing %");
  EXPECT_EQ(interpolate("%%(prop:branch)s", p), "%(prop:branch)s");
  EXPECT_EQ(interpolate("", p), "");
}

TEST(Interpolate, Substitution) {
  Properties p = interpolateSample();
  EXPECT_EQ(interpolate("%(prop:branch)s", p), "main");
  EXPECT_EQ(interpolate("git checkout %(prop:revision)s on %(prop:branch)s", p),
            "git checkout abc123 on main");
  EXPECT_EQ(interpolate("make -j%(prop:jobs)s", p), "make -j4");
  EXPECT_EQ(interpolate("[%(prop:empty)s]", p), "[]");
}

TEST(Interpolate, MissingPropertyThrows) {
  Properties p = interpolateSample();
  try {
    interpolate("x %(prop:nope)s", p);
    FAIL() << "expected InterpolationError";
  } catch (const InterpolationError& e) {
    EXPECT_NE(std::string(e.what()).find("property 'nope' is not set"), std::string::npos)
        << e.what();
  }
}

TEST(Interpolate, DefaultIfMissingOrEmpty) {
  Properties p = interpolateSample();
  EXPECT_EQ(interpolate("%(prop:nope:-dflt)s", p), "dflt");
  EXPECT_EQ(interpolate("%(prop:empty:-dflt)s", p), "dflt");
  EXPECT_EQ(interpolate("%(prop:nothing:-dflt)s", p), "dflt");
  EXPECT_EQ(interpolate("%(prop:branch:-dflt)s", p), "main");
  EXPECT_EQ(interpolate("%(prop:zero:-dflt)s", p), "0");
  EXPECT_EQ(interpolate("%(prop:off:-dflt)s", p), "false");
  EXPECT_EQ(interpolate("%(prop:nope:-)s", p), "");
}

TEST(Interpolate, DefaultIfFalsy) {
  Properties p = interpolateSample();
  EXPECT_EQ(interpolate("%(prop:nope:~d)s", p), "d");
  EXPECT_EQ(interpolate("%(prop:empty:~d)s", p), "d");
  EXPECT_EQ(interpolate("%(prop:zero:~d)s", p), "d");
  EXPECT_EQ(interpolate("%(prop:off:~d)s", p), "d");
  EXPECT_EQ(interpolate("%(prop:nothing:~d)s", p), "d");
  EXPECT_EQ(interpolate("%(prop:nolist:~d)s", p), "d");
  EXPECT_EQ(interpolate("%(prop:on:~d)s", p), "true");
  EXPECT_EQ(interpolate("%(prop:jobs:~d)s", p), "4");
}

TEST(Interpolate, ReplacementIfSet) {
  Properties p = interpolateSample();
  EXPECT_EQ(interpolate("make%(prop:jobs:+ -j)s", p), "make -j");
  EXPECT_EQ(interpolate("make%(prop:nope:+ -j)s", p), "make");
  EXPECT_EQ(interpolate("make%(prop:empty:+ -j)s", p), "make");
  EXPECT_EQ(interpolate("make%(prop:zero:+ -j)s", p), "make -j");
}

TEST(Interpolate, NestedDefaults) {
  Properties p = interpolateSample();
  EXPECT_EQ(interpolate("%(prop:nope:-%(prop:branch)s)s", p), "main");
  EXPECT_EQ(interpolate("%(prop:nope:-%(prop:nope2:-x%%y)s)s", p), "x%y");
  EXPECT_EQ(interpolate("%(prop:jobs:+-j%(prop:jobs)s)s", p), "-j4");
  // The nested reference is only evaluated when the default is used.
  EXPECT_EQ(interpolate("%(prop:branch:-%(prop:nope)s)s", p), "main");
  EXPECT_THROW(interpolate("%(prop:nope:-%(prop:nope2)s)s", p), InterpolationError);
}

TEST(Interpolate, SyntaxErrors) {
  Properties p = interpolateSample();
  EXPECT_THROW(interpolate("%(prop:branch", p), InterpolationError);
  EXPECT_THROW(interpolate("%(prop:branch)", p), InterpolationError);
  EXPECT_THROW(interpolate("%(prop:branch)x", p), InterpolationError);
  EXPECT_THROW(interpolate("%(kw:branch)s", p), InterpolationError);
  EXPECT_THROW(interpolate("%(branch)s", p), InterpolationError);
  EXPECT_THROW(interpolate("%(prop:)s", p), InterpolationError);
  EXPECT_THROW(interpolate("%(prop:a b)s", p), InterpolationError);
  EXPECT_THROW(interpolate("%(prop:a:?x)s", p), InterpolationError);
  EXPECT_THROW(interpolate("%(prop:a:-x", p), InterpolationError);
  EXPECT_THROW(interpolate("%(prop:a:", p), InterpolationError);
}

TEST(ValidateInterpolation, AcceptsWellFormed) {
  EXPECT_EQ(validateInterpolation("plain"), std::nullopt);
  EXPECT_EQ(validateInterpolation("%(prop:a)s %(prop:b:-c)s %(prop:d:~)s %(prop:e:+f)s %%"),
            std::nullopt);
  EXPECT_EQ(validateInterpolation("%(prop:missing)s"), std::nullopt);  // no properties needed
  EXPECT_EQ(validateInterpolation("%(prop:a:-%(prop:b)s)s"), std::nullopt);
}

TEST(ValidateInterpolation, ExplainsProblems) {
  auto unterminated = validateInterpolation("echo %(prop:branch");
  ASSERT_TRUE(unterminated.has_value());
  EXPECT_NE(unterminated->find("unterminated '%('"), std::string::npos) << *unterminated;
  EXPECT_NE(unterminated->find("character 6"), std::string::npos) << *unterminated;

  auto noS = validateInterpolation("%(prop:branch)");
  ASSERT_TRUE(noS.has_value());
  EXPECT_NE(noS->find("missing 's'"), std::string::npos) << *noS;

  auto source = validateInterpolation("%(kw:x)s");
  ASSERT_TRUE(source.has_value());
  EXPECT_NE(source->find("unknown interpolation source 'kw'"), std::string::npos) << *source;

  auto op = validateInterpolation("%(prop:x:=y)s");
  ASSERT_TRUE(op.has_value());
  EXPECT_NE(op->find("unknown operator ':='"), std::string::npos) << *op;
}

TEST(Interpolate, SecretsExpandOnlyWhereGiven) {
  Properties props;
  props.set("user", "ci", "Builder");
  const SecretValues secrets{{"token", "t0ps3cret"}};
  EXPECT_EQ(interpolate("curl -u %(prop:user)s:%(secret:token)s", props, &secrets),
            "curl -u ci:t0ps3cret");
  // Inside a default too.
  EXPECT_EQ(interpolate("%(prop:nope:-%(secret:token)s)s", props, &secrets), "t0ps3cret");
  try {
    interpolate("%(secret:token)s", props);
    ADD_FAILURE() << "a secret expanded without secrets";
  } catch (const InterpolationError& e) {
    EXPECT_NE(std::string(e.what()).find("secrets cannot be used here"), std::string::npos);
  }
  try {
    interpolate("%(secret:other)s", props, &secrets);
    ADD_FAILURE() << "an unknown secret expanded";
  } catch (const InterpolationError& e) {
    EXPECT_NE(std::string(e.what()).find("secret 'other' is not defined"), std::string::npos);
  }
}

TEST(Interpolate, SecretSyntax) {
  EXPECT_EQ(secretNames("a %(secret:x)s %(prop:p:-%(secret:y)s)s %(secret:x)s"),
            (std::vector<std::string>{"x", "y", "x"}));
  EXPECT_TRUE(secretNames("%(prop:x)s").empty());
  EXPECT_TRUE(secretNames("%(secret:x").empty());  // not well formed
  auto op = validateInterpolation("%(secret:x:-y)s");
  ASSERT_TRUE(op.has_value());
  EXPECT_NE(op->find("a secret takes no default"), std::string::npos) << *op;
  auto empty = validateInterpolation("%(secret:)s");
  ASSERT_TRUE(empty.has_value());
  EXPECT_NE(empty->find("missing secret name"), std::string::npos) << *empty;
}

}  // namespace
}  // namespace bb
