#pragma once
// The mail reporter's subject and body templates: text with `{name}`
// placeholders, `{{` and `}}` for literal braces. The names are listed in
// docs/notifiers.md; each mail fills them from the build or BuildSet.
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace bb {

// Every placeholder a template may use.
const std::vector<std::string>& mailPlaceholders();

// Why `text` is not a valid template with placeholders `known` (an
// unknown placeholder, an unclosed brace), or nullopt. The forge
// reporters' context template uses it too.
std::optional<std::string> checkTemplate(const std::string& text, const std::vector<std::string>& known);

// Why `text` is not a valid mail template (an unknown placeholder, an
// unclosed brace), or nullopt.
std::optional<std::string> checkMailTemplate(const std::string& text);

// `text` with each {name} replaced by values[name] ("" if absent).
std::string renderMailTemplate(const std::string& text,
                               const std::map<std::string, std::string>& values);

// The templates used when the config gives none.
extern const char* const kDefaultBuildSubject;
extern const char* const kDefaultBuildsetSubject;
extern const char* const kDefaultBody;

}  // namespace bb
