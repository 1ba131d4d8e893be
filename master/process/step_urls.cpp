#include "master/process/step_urls.hpp"

#include <algorithm>

#include "config/step_url.hpp"

namespace bb {

namespace {

// A marker line is at most this long: the marker, a name, a space, a URL.
constexpr std::size_t kMaxMarkerLine = StepUrls::kMarker.size() + kMaxStepUrlNameBytes + 1 + kMaxStepUrlBytes;

}  // namespace

std::optional<std::string> StepUrls::add(const std::string& name, const std::string& url) {
  if (auto bad = checkStepUrlName(name)) return bad;
  if (auto bad = checkStepUrl(url)) return bad;
  auto same = std::find_if(urls_.begin(), urls_.end(), [&](const auto& u) { return u.first == name; });
  if (same != urls_.end()) {
    same->second = url;
    return std::nullopt;
  }
  if (urls_.size() >= kMaxStepUrls)
    return "the step has " + std::to_string(kMaxStepUrls) + " URLs already (the most it may have)";
  urls_.emplace_back(name, url);
  return std::nullopt;
}

bool StepUrls::scan(int stream, std::string_view data,
                    const std::function<void(const std::string&)>& refused) {
  if (stream != 0 && stream != 1) return false;
  Line& l = lines_[static_cast<std::size_t>(stream)];
  bool changed = false;
  while (!data.empty()) {
    if (l.skipping) {
      // Only a line that starts with the marker's '#' can be one: jump to
      // the next '#' just after a line end (one memchr over output without
      // '#', as most output is, instead of one per line).
      std::size_t from = 0;
      for (;;) {
        const std::size_t hash = data.find(kMarker.front(), from);
        if (hash == std::string_view::npos) {
          // The next chunk starts a line if this one ends one.
          l.skipping = data.back() != '\n';
          return changed;
        }
        if (hash > 0 && data[hash - 1] == '\n') {
          data.remove_prefix(hash);
          l.skipping = false;
          break;
        }
        from = hash + 1;
      }
    }
    const std::size_t nl = data.find('\n');
    const std::string_view part = data.substr(0, nl);  // up to the line end (or all)
    // Not the marker (a prefix that differs), before copying anything.
    const std::size_t have = std::min(l.text.size(), kMarker.size());
    const std::size_t n = std::min(part.size(), kMarker.size() - have);
    if (part.compare(0, n, kMarker.substr(have, n)) != 0) {
      l.text.clear();
      l.skipping = true;
      continue;  // the skip above finds the line's end
    }
    l.text.append(part.substr(0, std::min(part.size(), kMaxMarkerLine + 2 - l.text.size())));
    if (l.text.size() > kMaxMarkerLine + 1) {  // + a '\r'
      l.text.clear();
      l.skipping = true;
      refused("a ##buildbot-url line longer than " + std::to_string(kMaxMarkerLine) + " bytes");
      continue;
    }
    if (nl == std::string_view::npos) break;
    if (l.text.size() >= kMarker.size()) changed = takeLine(std::move(l.text), refused) || changed;
    l.text.clear();
    data.remove_prefix(nl + 1);
  }
  return changed;
}

bool StepUrls::takeLine(std::string line, const std::function<void(const std::string&)>& refused) {
  if (!line.empty() && line.back() == '\r') line.pop_back();
  std::string_view rest = std::string_view(line).substr(kMarker.size());
  while (!rest.empty() && rest.back() == ' ') rest.remove_suffix(1);
  const std::size_t sp = rest.rfind(' ');
  if (sp == std::string_view::npos) {
    refused("a ##buildbot-url line needs a name and a URL: ##buildbot-url NAME URL");
    return false;
  }
  std::string_view name = rest.substr(0, sp);
  while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
  while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
  const std::string url(rest.substr(sp + 1));
  if (auto bad = add(std::string(name), url)) {
    refused("##buildbot-url " + std::string(name.substr(0, kMaxStepUrlNameBytes)) + " not taken: " + *bad);
    return false;
  }
  return true;
}

Json StepUrls::toJson() const {
  Json out = Json::array();
  for (const auto& [name, url] : urls_) out.push_back(Json{{"name", name}, {"url", url}});
  return out;
}

}  // namespace bb
