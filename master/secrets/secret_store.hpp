#pragma once
// The master's secrets (values read by the config loader) and the one
// place their values are masked. Everything the master stores, publishes
// or logs that could hold a secret goes through mask(): step logs (through
// StreamMasker, in LogWriter), build and step texts, properties set by
// steps, events on the bus and the master's own log lines. Mails and web
// pages are to take their text from those, or call mask() themselves.
//
// A value is replaced by "<secret:NAME>". Occurrences that overlap or
// touch are one masked region, written as the tags of the secrets found in
// it, in order ("<secret:A><secret:B>"), so no byte of either is left.
// Matching is by bytes, so any UTF-8 (or other) value works.
#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/interpolate.hpp"  // SecretValues
#include "common/message.hpp"      // Json

namespace bb {

class SecretStore {
 public:
  // A masked region [begin, end) of a text and the secrets found in it.
  struct Region {
    std::size_t begin = 0, end = 0;
    std::vector<std::string> names;
  };

  SecretStore() = default;
  // `values` as read by resolveSecrets (each at least kMinSecretBytes
  // long; shorter ones are ignored here rather than masking ordinary text).
  explicit SecretStore(SecretValues values);

  const SecretValues& values() const { return values_; }
  bool empty() const { return patterns_.empty(); }
  // Length in bytes of the longest secret (0 when there are none).
  std::size_t longest() const { return longest_; }

  // `text` with every secret's value replaced by its tag.
  std::string mask(std::string_view text) const;
  // `j` with every string in it (values and keys) masked.
  Json maskJson(const Json& j) const;
  // The masked regions of `text`, in order, disjoint and not touching.
  std::vector<Region> regions(std::string_view text) const;
  // Appends text[0, to) masked to `out`; no region may cross `to`.
  void appendMasked(std::string_view text, std::size_t to, const std::vector<Region>& regions,
                    std::string& out) const;
  // The length of the longest suffix of `text` that is a proper prefix of
  // some secret: those bytes may be the start of a secret still arriving.
  std::size_t heldSuffix(std::string_view text) const;

 private:
  SecretValues values_;
  std::vector<std::pair<std::string, std::string>> patterns_;  // (value, name)
  std::size_t longest_ = 0;
};

}  // namespace bb
