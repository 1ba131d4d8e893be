#include "common/interpolate.hpp"

#include <algorithm>
#include <iterator>
#include <stdexcept>
#include <utility>
#include <vector>

namespace bb {

void Properties::set(const std::string& name, Json value, const std::string& source) {
  entries_[name] = Entry{std::move(value), source};
}

const Json* Properties::get(const std::string& name) const {
  auto it = entries_.find(name);
  return it == entries_.end() ? nullptr : &it->second.value;
}

const std::string* Properties::sourceOf(const std::string& name) const {
  auto it = entries_.find(name);
  return it == entries_.end() ? nullptr : &it->second.source;
}

bool Properties::has(const std::string& name) const { return entries_.count(name) != 0; }

bool Properties::erase(const std::string& name) { return entries_.erase(name) != 0; }

std::string propertyValueToString(const Json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_null()) return "";
  return value.dump();
}

std::string Properties::asString(const std::string& name) const {
  const Json* v = get(name);
  if (v == nullptr) throw InterpolationError("property '" + name + "' is not set");
  return propertyValueToString(*v);
}

void Properties::update(const Properties& other) {
  for (const auto& [name, entry] : other.entries_) entries_[name] = entry;
}

Json Properties::toJson() const {
  Json out = Json::object();
  for (const auto& [name, entry] : entries_) out[name] = Json::array({entry.value, entry.source});
  return out;
}

Properties Properties::fromJson(const Json& j) {
  if (!j.is_object()) throw std::invalid_argument("properties must be a JSON object");
  Properties p;
  for (const auto& [name, pair] : j.items()) {
    if (!pair.is_array() || pair.size() != 2 || !pair[1].is_string()) {
      throw std::invalid_argument("property '" + name + "' must be [value, source]");
    }
    p.set(name, pair[0], pair[1].get<std::string>());
  }
  return p;
}

namespace {

// A parsed template: literal text and substitutions, in order. Parsing once
// into this form keeps syntax checking (validateInterpolation) and expansion
// (interpolate) from disagreeing about what is valid.
struct Piece {
  std::string literal;  // used when name is empty
  std::string name;     // property (or secret) name of a substitution
  bool secret = false;  // %(secret:NAME)s
  char op = 0;          // 0, '-', '~' or '+'
  std::vector<Piece> alt;
};

bool isNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '_' || c == '.' || c == '-';
}

constexpr const char* kSourceStampNames[] = {"branch", "revision", "repository", "project",
                                             "codebase"};

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  std::vector<Piece> parseAll() { return parseSequence(false, 0); }

 private:
  [[noreturn]] void fail(std::size_t at, const std::string& what) const {
    throw InterpolationError(what + " at character " + std::to_string(at + 1) + " of \"" +
                             std::string(text_) + "\"");
  }

  static void appendLiteral(std::vector<Piece>& out, char c) {
    if (out.empty() || !out.back().name.empty()) out.push_back(Piece{});
    out.back().literal.push_back(c);
  }

  // Parses up to the end of the text, or (inside a default) up to the ')'
  // that closes the substitution opened at `openedAt`.
  std::vector<Piece> parseSequence(bool inAlt, std::size_t openedAt) {
    std::vector<Piece> out;
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (inAlt && c == ')') return out;
      if (c == '%' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '%') {
        appendLiteral(out, '%');
        pos_ += 2;
      } else if (c == '%' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '(') {
        out.push_back(parseSubstitution());
      } else {
        appendLiteral(out, c);
        ++pos_;
      }
    }
    if (inAlt) fail(openedAt, "unterminated '%(': expected ')s'");
    return out;
  }

  Piece parseSubstitution() {
    const std::size_t start = pos_;
    pos_ += 2;  // "%("
    std::size_t colon = text_.find(':', pos_);
    std::size_t close = text_.find(')', pos_);
    if (colon == std::string_view::npos || (close != std::string_view::npos && close < colon)) {
      fail(start, "'%(' must be followed by 'prop:NAME' or 'secret:NAME'");
    }
    std::string_view source = text_.substr(pos_, colon - pos_);
    if (source != "prop" && source != "secret") {
      fail(start, "unknown interpolation source '" + std::string(source) +
                      "' (use %(prop:NAME)s or %(secret:NAME)s)");
    }
    pos_ = colon + 1;
    Piece p;
    p.secret = source == "secret";
    while (pos_ < text_.size() && isNameChar(text_[pos_])) p.name.push_back(text_[pos_++]);
    if (pos_ >= text_.size()) fail(start, "unterminated '%(': expected ')s'");
    if (p.name.empty()) fail(start, "missing " + std::string(source) + " name after '%(" +
                                        std::string(source) + ":'");
    char c = text_[pos_];
    if (c == ':' && p.secret) {
      fail(pos_, "a secret takes no default or operator (write %(secret:" + p.name + ")s)");
    } else if (c == ':') {
      if (pos_ + 1 >= text_.size()) fail(start, "unterminated '%(': expected ')s'");
      char op = text_[pos_ + 1];
      if (op != '-' && op != '~' && op != '+') {
        fail(pos_, std::string("unknown operator ':") + op + "' (use :-, :~ or :+)");
      }
      p.op = op;
      pos_ += 2;
      p.alt = parseSequence(true, start);
      c = text_[pos_];  // parseSequence stopped at ')'
    } else if (c != ')') {
      fail(pos_, std::string("bad character '") + c +
                     "' in property name (letters, digits, '_', '.', '-' only)");
    }
    // text_[pos_] == ')'
    if (pos_ + 1 >= text_.size() || text_[pos_ + 1] != 's') {
      fail(pos_, "missing 's' after ')' (write %(prop:NAME)s)");
    }
    pos_ += 2;
    return p;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

bool isFalsy(const Json& v) {
  if (v.is_null()) return true;
  if (v.is_boolean()) return !v.get<bool>();
  if (v.is_number_integer() || v.is_number_unsigned()) return v.get<std::int64_t>() == 0;
  if (v.is_number_float()) return v.get<double>() == 0.0;
  if (v.is_string()) return v.get<std::string>().empty();
  return v.empty();  // array or object
}

void expand(const std::vector<Piece>& pieces, const Properties& props,
            const SecretValues* secrets, std::string& out) {
  for (const Piece& p : pieces) {
    if (p.name.empty()) {
      out += p.literal;
      continue;
    }
    if (p.secret) {
      if (secrets == nullptr) throw InterpolationError("secrets cannot be used here");
      auto it = secrets->find(p.name);
      if (it == secrets->end()) throw InterpolationError("secret '" + p.name + "' is not defined");
      out += it->second;
      continue;
    }
    const Json* v = props.get(p.name);
    switch (p.op) {
      case 0:
        if (v == nullptr) {
          throw InterpolationError("property '" + p.name + "' is not set (use %(prop:" + p.name +
                                   ":-DEFAULT)s to give a default)");
        }
        out += propertyValueToString(*v);
        break;
      case '-':
        if (v == nullptr || propertyValueToString(*v).empty()) {
          expand(p.alt, props, secrets, out);
        } else {
          out += propertyValueToString(*v);
        }
        break;
      case '~':
        if (v == nullptr || isFalsy(*v)) {
          expand(p.alt, props, secrets, out);
        } else {
          out += propertyValueToString(*v);
        }
        break;
      case '+':
        if (v != nullptr && !propertyValueToString(*v).empty()) expand(p.alt, props, secrets, out);
        break;
    }
  }
}

void collectSecrets(const std::vector<Piece>& pieces, std::vector<std::string>& out) {
  for (const Piece& p : pieces) {
    if (p.secret) out.push_back(p.name);
    collectSecrets(p.alt, out);
  }
}

}  // namespace

std::string interpolate(std::string_view text, const Properties& props,
                        const SecretValues* secrets) {
  // Fast path: most strings have no '%' at all.
  if (text.find('%') == std::string_view::npos) return std::string(text);
  std::vector<Piece> pieces = Parser(text).parseAll();
  std::string out;
  expand(pieces, props, secrets, out);
  return out;
}

std::vector<std::string> secretNames(std::string_view text) {
  std::vector<std::string> out;
  if (text.find('%') == std::string_view::npos) return out;
  try {
    collectSecrets(Parser(text).parseAll(), out);
  } catch (const InterpolationError&) {
    out.clear();
  }
  return out;
}

std::optional<std::string> validateInterpolation(std::string_view text) {
  try {
    Parser(text).parseAll();
  } catch (const InterpolationError& e) {
    return std::string(e.what());
  }
  return std::nullopt;
}

std::optional<std::string> checkPropertyName(const std::string& name) {
  // The same characters the interpolation parser accepts in %(prop:NAME)s,
  // so every property that can be set can be referred to.
  if (!name.empty() && std::all_of(name.begin(), name.end(), isNameChar)) return std::nullopt;
  return "property name '" + name + "' is not allowed: use one or more letters, digits, '_', " +
         "'.' or '-' (a name that %(prop:NAME)s can refer to)";
}

bool isSourceStampProperty(const std::string& name) {
  return std::find(std::begin(kSourceStampNames), std::end(kSourceStampNames), name) !=
         std::end(kSourceStampNames);
}

std::string sourceStampPropertyNote(const std::string& name, const std::string& instead) {
  return "property '" + name + "' is ignored: a build's " + name +
         " comes from its source stamp" + (instead.empty() ? "" : " (set it with " + instead + ")");
}

}  // namespace bb
