#include "common/try_job.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <random>
#include <set>

#include "common/buildbot_try_job.hpp"

namespace bb {

namespace {

constexpr std::size_t kMaxHeaderLine = 64 * 1024;

// Header values are one line: '\' escapes a newline ("\n") and itself ("\\").
std::string escapeValue(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else if (c == '\r')
      out += "\\r";
    else
      out += c;
  }
  return out;
}

std::string unescapeValue(std::string_view v, int line) {
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] != '\\') {
      out += v[i];
      continue;
    }
    if (i + 1 >= v.size())
      throw TryJobError("try job line " + std::to_string(line) + ": a value ends with a lone '\\'");
    const char n = v[++i];
    if (n == '\\')
      out += '\\';
    else if (n == 'n')
      out += '\n';
    else if (n == 'r')
      out += '\r';
    else
      throw TryJobError("try job line " + std::to_string(line) + ": unknown escape '\\" +
                        std::string(1, n) + "' (only \\\\, \\n and \\r)");
  }
  return out;
}

bool validJobIdChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

int parseInt(std::string_view text, const std::string& what, long long max) {
  if (text.empty() || text.size() > 12) throw TryJobError(what + " must be a whole number, not '" + std::string(text) + "'");
  long long v = 0;
  for (char c : text) {
    if (c < '0' || c > '9')
      throw TryJobError(what + " must be a whole number, not '" + std::string(text) + "'");
    v = v * 10 + (c - '0');
  }
  if (v > max) throw TryJobError(what + " is " + std::string(text) + ", more than " + std::to_string(max));
  return static_cast<int>(v);
}

}  // namespace

std::string checkTryJob(const TryJob& job) {
  if (job.jobId.empty()) return "the job has no job id";
  if (job.jobId.size() > 128) return "the job id is longer than 128 characters";
  for (char c : job.jobId)
    if (!validJobIdChar(c))
      return "the job id '" + job.jobId + "' may hold only letters, digits, '.', '_' and '-'";
  if (job.jobId[0] == '.') return "the job id must not start with '.'";
  if (job.builders.empty()) return "the job names no builder";
  for (const auto& b : job.builders)
    if (b.empty() || b.find_first_of("\n\r") != std::string::npos)
      return "the job names an empty or multi-line builder";
  if (job.patchLevel < 0 || job.patchLevel > 100)
    return "the patch level must be from 0 to 100, not " + std::to_string(job.patchLevel);
  for (const auto& [name, value] : job.properties)
    if (name.empty() || name.find_first_of("=\n\r") != std::string::npos)
      return "property name '" + name + "' is empty or holds '=' or a newline";
  for (const char* bad : {"\n", "\r"})
    for (const std::string* f : {&job.branch, &job.baseRevision, &job.repository, &job.project, &job.who})
      if (f->find(bad) != std::string::npos) return "branch, revision, repository, project and who are one line each";
  return "";
}

std::string formatTryJob(const TryJob& job) {
  if (auto bad = checkTryJob(job); !bad.empty()) throw TryJobError(bad);
  std::string out = "Try-Format: " + std::to_string(kTryJobFormatVersion) + "\n";
  out += "Job-Id: " + job.jobId + "\n";
  out += "Branch: " + escapeValue(job.branch) + "\n";
  out += "Base-Revision: " + escapeValue(job.baseRevision) + "\n";
  out += "Patch-Level: " + std::to_string(job.patchLevel) + "\n";
  out += "Repository: " + escapeValue(job.repository) + "\n";
  out += "Project: " + escapeValue(job.project) + "\n";
  for (const auto& b : job.builders) out += "Builder: " + escapeValue(b) + "\n";
  for (const auto& [n, v] : job.properties) out += "Property: " + escapeValue(n) + "=" + escapeValue(v) + "\n";
  out += "Who: " + escapeValue(job.who) + "\n";
  out += "Comment: " + escapeValue(job.comment) + "\n";
  out += "Patch-Length: " + std::to_string(job.patch.size()) + "\n\n";
  out += job.patch;
  return out;
}

TryJob parseTryJob(std::string_view text) {
  TryJob job;
  job.format = "bbcpp/1";
  std::set<std::string> seen;
  std::size_t pos = 0;
  int line = 0;
  long long patchLength = -1;
  bool blank = false;
  while (pos < text.size()) {
    const std::size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos)
      throw TryJobError("try job line " + std::to_string(line + 1) +
                        ": the headers end without a blank line (is the file cut short?)");
    std::string_view l = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++line;
    if (l.size() > kMaxHeaderLine)
      throw TryJobError("try job line " + std::to_string(line) + " is longer than 64 KiB");
    if (l.empty()) {
      blank = true;
      break;
    }
    const std::size_t colon = l.find(": ");
    if (colon == std::string_view::npos || colon == 0)
      throw TryJobError("try job line " + std::to_string(line) + " is not 'Header: value': '" +
                        std::string(l.substr(0, 80)) + "'");
    const std::string name(l.substr(0, colon));
    const std::string value = unescapeValue(l.substr(colon + 2), line);
    if (line == 1) {
      if (name != "Try-Format")
        throw TryJobError("a try job starts with 'Try-Format: 1', not '" + std::string(l.substr(0, 80)) + "'");
      if (value != std::to_string(kTryJobFormatVersion))
        throw TryJobError("try job format version '" + value + "' is not known (this master reads 1)");
      seen.insert(name);
      continue;
    }
    const bool repeatable = name == "Builder" || name == "Property";
    if (!repeatable && !seen.insert(name).second)
      throw TryJobError("try job line " + std::to_string(line) + ": header '" + name + "' given twice");
    if (name == "Job-Id")
      job.jobId = value;
    else if (name == "Branch")
      job.branch = value;
    else if (name == "Base-Revision")
      job.baseRevision = value;
    else if (name == "Patch-Level")
      job.patchLevel = parseInt(value, "Patch-Level", 100);
    else if (name == "Repository")
      job.repository = value;
    else if (name == "Project")
      job.project = value;
    else if (name == "Builder")
      job.builders.push_back(value);
    else if (name == "Property") {
      const auto eq = value.find('=');
      if (eq == std::string::npos || eq == 0)
        throw TryJobError("try job line " + std::to_string(line) + ": a property is 'NAME=VALUE', not '" + value + "'");
      job.properties[value.substr(0, eq)] = value.substr(eq + 1);
    } else if (name == "Who")
      job.who = value;
    else if (name == "Comment")
      job.comment = value;
    else if (name == "Patch-Length")
      patchLength = parseInt(value, "Patch-Length", 2000000000);
    else
      throw TryJobError("try job line " + std::to_string(line) + ": unknown header '" + name + "'");
  }
  if (line == 0) throw TryJobError("the try job is empty");
  if (!blank) throw TryJobError("the try job's headers end without a blank line");
  if (!seen.count("Job-Id")) throw TryJobError("the try job has no Job-Id header");
  if (patchLength < 0) throw TryJobError("the try job has no Patch-Length header");
  const std::size_t rest = text.size() - pos;
  if (rest != static_cast<std::size_t>(patchLength))
    throw TryJobError("the try job's patch is " + std::to_string(rest) + " bytes but Patch-Length says " +
                      std::to_string(patchLength) + (rest < static_cast<std::size_t>(patchLength) ? " (cut short?)" : ""));
  job.patch = std::string(text.substr(pos));
  if (auto bad = checkTryJob(job); !bad.empty()) throw TryJobError(bad);
  return job;
}

TryJob parseAnyTryJob(std::string_view text) {
  if (!text.empty() && text[0] >= '0' && text[0] <= '9') return parseBuildbotTryJob(text);
  return parseTryJob(text);
}

std::string newTryJobId() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
  std::random_device rd;
  char rnd[16];
  std::snprintf(rnd, sizeof rnd, "%08x", static_cast<unsigned>(rd()));
  return std::string(stamp) + "-" + std::to_string(::getpid()) + "-" + rnd;
}

}  // namespace bb
