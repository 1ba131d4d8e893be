#include "common/logging.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <unistd.h>

#include <chrono>
#include <algorithm>
#include <memory>
#include <mutex>
#include <limits>
#include <vector>
#include <stdexcept>

#include "common/message.hpp"

namespace bb {

namespace {

constexpr const char* kLoggerName = "bb";
// %* is the message with control characters and bytes that are not UTF-8
// escaped (EscapedMessage): a log line is always one line, whatever text
// from a peer (a slave's error, a client's reason, a name) it quotes.
constexpr const char* kPattern = "%Y-%m-%d %H:%M:%S.%e [%l] %*";

// The filter every message goes through (setLogFilter); log calls may
// come from any thread, so it is swapped and read under a mutex.
std::mutex filterMutex;
std::shared_ptr<const LogFilter> filter;

std::shared_ptr<const LogFilter> currentFilter() {
  std::lock_guard<std::mutex> lock(filterMutex);
  return filter;
}

class EscapedMessage : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    std::string_view text(msg.payload.data(), msg.payload.size());
    std::string filtered;
    if (auto f = currentFilter()) {
      filtered = (*f)(text);
      text = filtered;
    }
    const std::string safe = peerText(text, std::numeric_limits<std::size_t>::max(), false);
    dest.append(safe.data(), safe.data() + safe.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return spdlog::details::make_unique<EscapedMessage>();
  }
};

std::unique_ptr<spdlog::formatter> makeFormatter() {
  auto f = std::make_unique<spdlog::pattern_formatter>();
  f->add_flag<EscapedMessage>('*').set_pattern(kPattern);
  return f;
}

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

void initLogging(const std::string& filePath, const std::string& level,
                 const LogOptions& options) {
  const spdlog::level::level_enum lvl = parseLevel(level);
  std::vector<spdlog::sink_ptr> sinks;
  if (filePath.empty()) {
    sinks.push_back(std::make_shared<spdlog::sinks::stderr_sink_mt>());
  } else {
    spdlog::file_event_handlers events;
    if (options.redirectStdio) {
      events.after_open = [](const spdlog::filename_t&, std::FILE* file) {
        // Best effort: if dup2 fails, stray writes go to the previous file.
        (void)::dup2(::fileno(file), STDOUT_FILENO);
        (void)::dup2(::fileno(file), STDERR_FILENO);
      };
    }
    try {
      if (options.rotateBytes > 0) {
        sinks.push_back(std::make_shared<spdlog::sinks::rotating_file_sink_mt>(
            filePath, static_cast<std::size_t>(options.rotateBytes),
            static_cast<std::size_t>(std::max(options.keep, 0)), /*rotate_on_open=*/false, events));
      } else {
        sinks.push_back(std::make_shared<spdlog::sinks::basic_file_sink_mt>(
            filePath, /*truncate=*/false, events));
      }
    } catch (const spdlog::spdlog_ex& e) {
      throw std::runtime_error("cannot open log file " + filePath + ": " + e.what());
    }
    if (options.alsoStderr) sinks.push_back(std::make_shared<spdlog::sinks::stderr_sink_mt>());
  }
  auto logger = std::make_shared<spdlog::logger>(kLoggerName, sinks.begin(), sinks.end());
  logger->set_formatter(makeFormatter());
  logger->set_level(lvl);
  logger->flush_on(spdlog::level::warn);
  spdlog::drop(kLoggerName);  // re-initialising replaces the old logger
  spdlog::set_default_logger(logger);
  spdlog::flush_every(std::chrono::seconds(1));
}

void setLogFilter(LogFilter f) {
  auto next = f ? std::make_shared<const LogFilter>(std::move(f)) : nullptr;
  std::lock_guard<std::mutex> lock(filterMutex);
  filter = std::move(next);
}

void shutdownLogging() {
  if (auto logger = spdlog::default_logger()) logger->flush();
  spdlog::shutdown();  // also drops the default logger
  auto fallback = std::make_shared<spdlog::logger>(
      kLoggerName, std::make_shared<spdlog::sinks::stderr_sink_mt>());
  fallback->set_formatter(makeFormatter());
  spdlog::set_default_logger(std::move(fallback));
}

}  // namespace bb
