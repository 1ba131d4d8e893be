#include "master/secrets/stream_masker.hpp"

#include "master/secrets/secret_store.hpp"

namespace bb {

StreamMasker::StreamMasker(std::shared_ptr<const SecretStore> secrets)
    : secrets_(std::move(secrets)) {}

std::string StreamMasker::feed(int stream, std::string_view data, std::size_t& consumed) {
  std::string& text = pending_[stream];
  text.append(data);
  std::size_t cut = text.size() - secrets_->heldSuffix(text);
  const auto regions = secrets_->regions(text);
  // A region crossing the cut may still grow (an overlapping secret whose
  // rest is to come): hold it whole rather than pass on part of a secret.
  for (const auto& r : regions)
    if (r.begin < cut && r.end > cut) cut = r.begin;
  std::string out;
  secrets_->appendMasked(text, cut, regions, out);
  text.erase(0, cut);
  consumed = cut;
  return out;
}

std::vector<std::pair<int, std::string>> StreamMasker::drain(std::size_t& consumed) {
  std::vector<std::pair<int, std::string>> out;
  consumed = 0;
  for (auto& [stream, text] : pending_) {
    if (text.empty()) continue;
    consumed += text.size();
    out.emplace_back(stream, secrets_->mask(text));
    text.clear();
  }
  return out;
}

std::size_t StreamMasker::held() const {
  std::size_t n = 0;
  for (const auto& [stream, text] : pending_) n += text.size();
  return n;
}

}  // namespace bb
