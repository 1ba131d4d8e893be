#pragma once
// Helpers shared by the config unit tests.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "config/config_error.hpp"

namespace bb::test {

// A verifier for password "demo-pass" (the one in config/examples).
inline const std::string kVerifier =
    "scram-sha-256$4096:jzwqG559bFtKOSgXBvXk0w==$boSQpzCFRq7cFLxuYGXv34BJTp1H+ylYWCywkmSQW6Y=:"
    "n1kDKwVlyOLCLPpIJMRXOnMcHuZHD6YElc3odZuRmgU=";

// Every error, one per line, for failure messages.
inline std::string dump(const std::vector<ConfigError>& errors) {
  std::string out;
  for (const auto& e : errors) out += e.toString() + "\n";
  return out;
}

// The first error whose message contains `needle`, or nullptr.
inline const ConfigError* findError(const std::vector<ConfigError>& errors,
                                    const std::string& needle) {
  for (const auto& e : errors) {
    if (e.message.find(needle) != std::string::npos) return &e;
  }
  return nullptr;
}

// Asserts an error containing `needle` exists at line:column.
inline void expectErrorAt(const std::vector<ConfigError>& errors, const std::string& needle,
                          int line, int column) {
  const ConfigError* e = findError(errors, needle);
  ASSERT_NE(e, nullptr) << "no error containing \"" << needle << "\" in:\n" << dump(errors);
  EXPECT_EQ(e->line, line) << e->toString();
  EXPECT_EQ(e->column, column) << e->toString();
}

}  // namespace bb::test
