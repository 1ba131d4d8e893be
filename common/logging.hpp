#pragma once
// Process-wide logging through spdlog's default logger, named "bb".
// Everyone logs with spdlog::info(...), spdlog::warn(...), etc.
// Lines read "2024-05-01 12:00:00.123 [info] message". Warnings and errors
// are flushed at once; everything else at least once a second.
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace bb {

struct LogOptions {
  // The file is rotated when a line would make it larger than this:
  // NAME.log becomes NAME.1.log, NAME.1.log becomes NAME.2.log, ... and
  // NAME.KEEP.log is deleted (spdlog's naming). 0: never rotate.
  std::uint64_t rotateBytes = 0;
  // How many rotated files to keep (0: the file is emptied instead).
  int keep = 10;
  // Also write every line to stderr (a daemon in the foreground).
  bool alsoStderr = false;
  // Point stdout and stderr at the log file again each time it is opened
  // (after a rotation), so stray writes of a daemonized process (a crash
  // message, a sanitizer report) land in the current file.
  bool redirectStdio = false;
};

// Installs the default logger. filePath "" logs to stderr; otherwise the
// file is appended to (created if missing). level is one of trace, debug,
// info, warn (or warning), error, critical, off. May be called again to
// switch. Throws std::invalid_argument for an unknown level and
// std::runtime_error naming the file if it cannot be opened.
// Missing parent directories of filePath are created.
// Call it only after Daemonizer::start(): the periodic flusher is a
// thread, threads do not survive fork(), and a forked child that calls
// initLogging() again would wait forever to join the parent's flusher.
void initLogging(const std::string& filePath, const std::string& level = "info",
                 const LogOptions& options = {});

// Every message is passed through `f` before it is escaped and written
// (the master masks its secrets with it); an empty `f` removes the filter.
// Thread-safe; it applies to every logger initLogging() makes.
using LogFilter = std::function<std::string(std::string_view)>;
void setLogFilter(LogFilter f);

// Flushes and closes the log (file), stops the flusher thread, and leaves
// a plain stderr logger as the default, so a late log call cannot crash.
void shutdownLogging();

}  // namespace bb
