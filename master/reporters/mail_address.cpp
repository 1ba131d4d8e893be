#include "master/reporters/mail_address.hpp"
#include "common/trim.hpp"

namespace bb {

namespace {

bool plainAddress(const std::string& a) {
  const auto at = a.find('@');
  if (at == std::string::npos || at == 0 || at + 1 >= a.size() || a.find('@', at + 1) != std::string::npos)
    return false;
  for (unsigned char c : a)
    if (c <= ' ' || c == 0x7f || c == '<' || c == '>' || c == '"' || c == ',' || c == ';' || c == '(' ||
        c == ')' || c == '\\')
      return false;
  const std::string domain = a.substr(at + 1);
  if (domain == "localhost") return true;
  const auto dot = domain.find('.');
  return dot != std::string::npos && dot != 0 && domain.back() != '.' &&
         domain.find("..") == std::string::npos;
}

}  // namespace

std::optional<std::string> mailAddress(const std::string& text) {
  const std::string t = trim(text);
  const auto lt = t.rfind('<');
  if (lt != std::string::npos) {
    if (t.back() != '>') return std::nullopt;
    std::string inner = t.substr(lt + 1, t.size() - lt - 2);
    if (!plainAddress(inner)) return std::nullopt;
    return inner;
  }
  if (!plainAddress(t)) return std::nullopt;
  return t;
}

std::string mailDisplayName(const std::string& text) {
  const std::string t = trim(text);
  const auto lt = t.rfind('<');
  if (lt == std::string::npos) return "";
  std::string name = trim(t.substr(0, lt));
  if (name.size() >= 2 && name.front() == '"' && name.back() == '"') name = name.substr(1, name.size() - 2);
  return name;
}

}  // namespace bb
