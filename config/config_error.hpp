#pragma once
#include <optional>
#include <string>
#include <vector>

namespace bb {

// One problem in a config file, located as precisely as YAML allows.
struct ConfigError {
  std::string file;
  int line = 0;    // 1-based; 0 when unknown
  int column = 0;  // 1-based; 0 when unknown
  std::string message;  // says what is wrong and what to do
  // "file:line:column: message"
  std::string toString() const;
};

template <typename T>
struct ConfigResult {
  std::optional<T> config;
  std::vector<ConfigError> errors;
  bool ok() const { return config.has_value() && errors.empty(); }
};

}  // namespace bb
