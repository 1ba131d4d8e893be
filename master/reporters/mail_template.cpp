#include "master/reporters/mail_template.hpp"

#include <algorithm>

namespace bb {

const char* const kDefaultBuildSubject = "[{master}] {builder} #{number}: {result}";
const char* const kDefaultBuildsetSubject = "[{master}] BuildSet {buildset_id} ({scheduler}): {result}";
const char* const kDefaultBody =
    "{title}: {result}\n"
    "\n"
    "{url}\n"
    "\n"
    "Reason: {reason}\n"
    "Source stamp: {sourcestamp}\n"
    "Blamelist: {blamelist}\n"
    "\n"
    "{builds}"
    "{changes}"
    "{logs}"
    "-- \n"
    "buildmaster {master}\n";

const std::vector<std::string>& mailPlaceholders() {
  static const std::vector<std::string> names{
      "master", "master_url", "title", "url", "result", "reason", "builder", "number", "slave",
      "text", "scheduler", "buildset_id", "branch", "revision", "repository", "project",
      "sourcestamp", "blamelist", "changes", "builds", "logs"};
  return names;
}

namespace {

// Calls onText(literal) and onName(name) in order; returns the problem, if any.
template <typename OnText, typename OnName>
std::optional<std::string> walk(const std::string& text, OnText onText, OnName onName) {
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c == '{' && i + 1 < text.size() && text[i + 1] == '{') {
      onText("{");
      i += 2;
    } else if (c == '}' && i + 1 < text.size() && text[i + 1] == '}') {
      onText("}");
      i += 2;
    } else if (c == '{') {
      const auto end = text.find('}', i);
      if (end == std::string::npos)
        return "unclosed '{' at offset " + std::to_string(i) + " (write {{ for a literal brace)";
      onName(text.substr(i + 1, end - i - 1));
      i = end + 1;
    } else if (c == '}') {
      return "unmatched '}' at offset " + std::to_string(i) + " (write }} for a literal brace)";
    } else {
      const auto next = text.find_first_of("{}", i);
      const auto end = next == std::string::npos ? text.size() : next;
      onText(text.substr(i, end - i));
      i = end;
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> checkTemplate(const std::string& text, const std::vector<std::string>& known) {
  std::optional<std::string> unknown;
  auto problem = walk(
      text, [](const std::string&) {},
      [&](const std::string& name) {
        if (!unknown && std::find(known.begin(), known.end(), name) == known.end())
          unknown = "unknown placeholder {" + name + "}; known: {" +
                    [&] {
                      std::string all;
                      for (const auto& k : known) all += (all.empty() ? "" : "}, {") + k;
                      return all;
                    }() +
                    "}";
      });
  return problem ? problem : unknown;
}

std::optional<std::string> checkMailTemplate(const std::string& text) {
  return checkTemplate(text, mailPlaceholders());
}

std::string renderMailTemplate(const std::string& text,
                               const std::map<std::string, std::string>& values) {
  std::string out;
  (void)walk(
      text, [&](const std::string& t) { out += t; },
      [&](const std::string& name) {
        if (auto it = values.find(name); it != values.end()) out += it->second;
      });
  return out;
}

}  // namespace bb
