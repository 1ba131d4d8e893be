#include "client/client_options.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "client/client_error.hpp"
#include "common/trim.hpp"

namespace bb::client {

namespace {

std::string unquote(const std::string& s) {
  if (s.size() >= 2 && (s.front() == '"' || s.front() == '\'') && s.back() == s.front())
    return s.substr(1, s.size() - 2);
  return s;
}

}  // namespace

MasterAddress parseMasterAddress(const std::string& text) {
  std::string error;
  auto address = bb::parseMasterAddress(text, error);
  if (!address) throw UsageError("bad master address '" + text + "': " + error);
  return *address;
}

Credentials parseAuth(const std::string& text) {
  const auto colon = text.find(':');
  if (colon == std::string::npos)
    throw UsageError("bad --auth value: expected USER:PASSWORD");
  Credentials c{text.substr(0, colon), text.substr(colon + 1)};
  if (c.user.empty()) throw UsageError("bad --auth value: the user name is empty");
  return c;
}

std::pair<std::string, std::string> parseProperty(const std::string& text) {
  const auto colon = text.find(':');
  if (colon == std::string::npos)
    throw UsageError("bad property '" + text + "': expected NAME:VALUE");
  std::string name = text.substr(0, colon);
  if (name.empty()) throw UsageError("bad property '" + text + "': the name is empty");
  return {std::move(name), text.substr(colon + 1)};
}

Json parseProperties(const std::vector<std::string>& items) {
  Json props = Json::object();
  for (const auto& item : items) {
    auto [name, value] = parseProperty(item);
    props[name] = value;
  }
  return props;
}

std::map<std::string, std::string> parseOptionsFile(const std::string& text,
                                                    const std::string& source) {
  std::map<std::string, std::string> out;
  std::istringstream in(text);
  std::string line;
  int lineNo = 0;
  while (std::getline(in, line)) {
    ++lineNo;
    const std::string t = trim(line);
    if (t.empty() || t.front() == '#') continue;
    const auto eq = t.find('=');
    if (eq == std::string::npos)
      throw UsageError(source + ":" + std::to_string(lineNo) + ": expected 'key = value', got '" +
                       t + "'");
    const std::string key = trim(t.substr(0, eq));
    if (key.empty())
      throw UsageError(source + ":" + std::to_string(lineNo) + ": the key before '=' is empty");
    out[key] = unquote(trim(t.substr(eq + 1)));
  }
  return out;
}

std::map<std::string, std::string> loadOptionsFile(const std::string& path) {
  if (path.empty()) return {};
  std::ifstream f(path);
  if (!f) {
    if (errno == ENOENT) return {};
    throw UsageError("cannot read options file " + path + ": " + std::strerror(errno));
  }
  std::ostringstream ss;
  ss << f.rdbuf();
  if (f.bad()) throw UsageError("cannot read options file " + path);
  return parseOptionsFile(ss.str(), path);
}

std::string defaultOptionsPath(
    const std::function<std::optional<std::string>(const char*)>& getenv) {
  const auto home = getenv("HOME");
  if (!home || home->empty()) return "";
  return *home + "/.buildbot/options";
}

std::string toString(SettingSource s) {
  switch (s) {
    case SettingSource::Flag: return "command line";
    case SettingSource::AuthFile: return "--auth-file";
    case SettingSource::Environment: return "environment";
    case SettingSource::OptionsFile: return "options file";
    case SettingSource::None: return "nowhere";
  }
  return "unknown";
}

ResolvedSetting resolveSetting(const std::optional<std::string>& flag,
                               const std::optional<std::string>& env,
                               const std::map<std::string, std::string>& file,
                               const std::string& fileKey) {
  if (flag) return {flag, SettingSource::Flag};
  if (env && !env->empty()) return {env, SettingSource::Environment};
  if (auto it = file.find(fileKey); it != file.end()) return {it->second, SettingSource::OptionsFile};
  return {};
}

}  // namespace bb::client
