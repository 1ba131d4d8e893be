#include "common/logging.hpp"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <memory>
#include <stdexcept>

namespace bb {

namespace {

constexpr const char* kLoggerName = "bb";
constexpr const char* kPattern = "%Y-%m-%d %H:%M:%S.%e [%l] %v";

spdlog::level::level_enum parseLevel(const std::string& level) {
  // spdlog's from_str() maps anything unknown to "off", which would
  // silently disable logging on a typo; be strict instead.
  if (level == "trace") return spdlog::level::trace;
  if (level == "debug") return spdlog::level::debug;
  if (level == "info") return spdlog::level::info;
  if (level == "warn" || level == "warning") return spdlog::level::warn;
  if (level == "error") return spdlog::level::err;
  if (level == "critical") return spdlog::level::critical;
  if (level == "off") return spdlog::level::off;
  throw std::invalid_argument("unknown log level '" + level +
                              "' (use trace, debug, info, warn, error, critical or off)");
}

}  // namespace

void initLogging(const std::string& filePath, const std::string& level) {
  const spdlog::level::level_enum lvl = parseLevel(level);
  spdlog::sink_ptr sink;
  if (filePath.empty()) {
    sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  } else {
    try {
      sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(filePath, /*truncate=*/false);
    } catch (const spdlog::spdlog_ex& e) {
      throw std::runtime_error("cannot open log file " + filePath + ": " + e.what());
    }
  }
  auto logger = std::make_shared<spdlog::logger>(kLoggerName, std::move(sink));
  logger->set_pattern(kPattern);
  logger->set_level(lvl);
  logger->flush_on(spdlog::level::warn);
  spdlog::drop(kLoggerName);  // re-initialising replaces the old logger
  spdlog::set_default_logger(logger);
  spdlog::flush_every(std::chrono::seconds(1));
}

void shutdownLogging() {
  if (auto logger = spdlog::default_logger()) logger->flush();
  spdlog::shutdown();  // also drops the default logger
  auto fallback = std::make_shared<spdlog::logger>(
      kLoggerName, std::make_shared<spdlog::sinks::stderr_sink_mt>());
  fallback->set_pattern(kPattern);
  spdlog::set_default_logger(std::move(fallback));
}

}  // namespace bb
