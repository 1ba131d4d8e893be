#include "master/secrets/secret_store.hpp"

#include <algorithm>

#include "config/master_config.hpp"  // kMinSecretBytes

namespace bb {

SecretStore::SecretStore(SecretValues values) : values_(std::move(values)) {
  for (const auto& [name, value] : values_) {
    if (value.size() < kMinSecretBytes) continue;
    patterns_.emplace_back(value, name);
    longest_ = std::max(longest_, value.size());
  }
}

std::vector<SecretStore::Region> SecretStore::regions(std::string_view text) const {
  // Every occurrence of every secret, merged where they overlap or touch.
  // A plain scan per secret: a master has a handful of secrets, and
  // string_view::find is fast; an Aho-Corasick automaton would pay off
  // only with many more.
  struct Hit {
    std::size_t begin, end;
    const std::string* name;
  };
  std::vector<Hit> hits;
  for (const auto& [value, name] : patterns_) {
    for (std::size_t at = text.find(value); at != std::string_view::npos;
         at = text.find(value, at + 1))
      hits.push_back(Hit{at, at + value.size(), &name});
  }
  std::sort(hits.begin(), hits.end(), [](const Hit& a, const Hit& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end > b.end;
  });
  std::vector<Region> out;
  for (const Hit& h : hits) {
    if (!out.empty() && h.begin <= out.back().end) {
      Region& r = out.back();
      r.end = std::max(r.end, h.end);
      if (std::find(r.names.begin(), r.names.end(), *h.name) == r.names.end())
        r.names.push_back(*h.name);
    } else {
      out.push_back(Region{h.begin, h.end, {*h.name}});
    }
  }
  return out;
}

void SecretStore::appendMasked(std::string_view text, std::size_t to,
                               const std::vector<Region>& regions, std::string& out) const {
  std::size_t at = 0;
  for (const Region& r : regions) {
    if (r.begin >= to) break;
    out.append(text.substr(at, r.begin - at));
    for (const auto& name : r.names) out += "<secret:" + name + ">";
    at = r.end;
  }
  if (at < to) out.append(text.substr(at, to - at));
}

std::string SecretStore::mask(std::string_view text) const {
  if (patterns_.empty()) return std::string(text);
  std::string out;
  out.reserve(text.size());
  appendMasked(text, text.size(), regions(text), out);
  return out;
}

Json SecretStore::maskJson(const Json& j) const {
  if (patterns_.empty()) return j;
  if (j.is_string()) return mask(j.get_ref<const std::string&>());
  if (j.is_array()) {
    Json out = Json::array();
    for (const auto& item : j) out.push_back(maskJson(item));
    return out;
  }
  if (j.is_object()) {
    Json out = Json::object();
    for (const auto& [k, v] : j.items()) out[mask(k)] = maskJson(v);
    return out;
  }
  return j;
}

std::size_t SecretStore::heldSuffix(std::string_view text) const {
  // For each secret, the earliest start in the last (length - 1) bytes
  // from which the rest of the text is a prefix of it: only positions
  // holding the secret's first byte are compared, so a long secret (a key
  // file) costs little on ordinary output.
  std::size_t best = 0;
  for (const auto& [value, name] : patterns_) {
    const std::size_t most = std::min(value.size() - 1, text.size());
    for (std::size_t pos = text.size() - most; pos < text.size() - best; ++pos) {
      if (text[pos] != value[0]) continue;
      const std::string_view tail = text.substr(pos);
      if (std::string_view(value).substr(0, tail.size()) == tail) {
        best = tail.size();
        break;
      }
    }
  }
  return best;
}

}  // namespace bb
