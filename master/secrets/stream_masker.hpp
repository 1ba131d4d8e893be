#pragma once
// Masks secrets in output that arrives in chunks, per stream, so that a
// secret split across two chunks (or more) is masked too.
//
// The rule: of each chunk, the bytes that could be the start of a secret
// still arriving (the longest end of the stream's text that is a proper
// prefix of some secret, plus any masked region that reaches into it) are
// held back until the next chunk of the same stream or until drain() at
// the end of the log. Nothing else is held, so output that does not end
// in a secret's first bytes is passed on at once; held bytes are at most
// the longest secret's length - 1. No timer releases them: what is shown
// never depends on timing, only on the bytes.
#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace bb {

class SecretStore;

class StreamMasker {
 public:
  explicit StreamMasker(std::shared_ptr<const SecretStore> secrets);

  // What may be passed on after `data` arrived on `stream`, masked;
  // `consumed` is set to how many input bytes that accounts for (the
  // ones held back before and now released included).
  std::string feed(int stream, std::string_view data, std::size_t& consumed);
  // Every stream's held bytes, masked, as (stream, text); the streams are
  // then empty. `consumed` is set as for feed().
  std::vector<std::pair<int, std::string>> drain(std::size_t& consumed);
  // Input bytes held back, over all streams.
  std::size_t held() const;

 private:
  std::shared_ptr<const SecretStore> secrets_;
  std::map<int, std::string> pending_;
};

}  // namespace bb
