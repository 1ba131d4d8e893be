#include "common/buildbot_try_job.hpp"

#include <nlohmann/json.hpp>

#include "common/base64.hpp"

namespace bb {

namespace {

using Json = nlohmann::json;

std::string ns(std::string_view s) { return std::to_string(s.size()) + ":" + std::string(s) + ","; }

int patchLevelOf(const std::string& text) {
  if (text.empty() || text.size() > 3) throw TryJobError("Buildbot try job: patch_level '" + text + "' is not a number");
  int v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') throw TryJobError("Buildbot try job: patch_level '" + text + "' is not a number");
    v = v * 10 + (c - '0');
  }
  return v;
}

std::string stringField(const Json& j, const char* key, bool required = false) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    if (required) throw TryJobError(std::string("Buildbot try job: the JSON has no '") + key + "'");
    return "";
  }
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number()) return it->dump();
  throw TryJobError(std::string("Buildbot try job: '") + key + "' must be a string");
}

TryJob fromJson(std::string_view text, int version) {
  Json j;
  try {
    j = Json::parse(text);
  } catch (const std::exception& e) {
    throw TryJobError("Buildbot try job version " + std::to_string(version) + ": the JSON does not parse: " + e.what());
  }
  if (!j.is_object()) throw TryJobError("Buildbot try job: the JSON is not an object");
  TryJob job;
  job.jobId = stringField(j, "jobid", true);
  job.branch = stringField(j, "branch");
  job.baseRevision = stringField(j, "baserev");
  if (job.baseRevision == "None") job.baseRevision.clear();  // str(None) from old clients
  auto pl = j.find("patch_level");
  if (pl == j.end() || !pl->is_number_integer())
    throw TryJobError("Buildbot try job: 'patch_level' must be a whole number");
  job.patchLevel = pl->get<int>();
  if (version == 5) {
    job.patch = stringField(j, "patch_body");
  } else {
    auto decoded = base64Decode(stringField(j, "patch_body_base64", true));
    if (!decoded) throw TryJobError("Buildbot try job: 'patch_body_base64' is not valid base64");
    job.patch = *decoded;
  }
  job.repository = stringField(j, "repository");
  job.project = stringField(j, "project");
  job.who = stringField(j, "who");
  job.comment = stringField(j, "comment");
  auto bn = j.find("builderNames");
  if (bn == j.end() || !bn->is_array()) throw TryJobError("Buildbot try job: 'builderNames' must be a list");
  for (const auto& b : *bn) {
    if (!b.is_string()) throw TryJobError("Buildbot try job: 'builderNames' must be a list of names");
    job.builders.push_back(b.get<std::string>());
  }
  if (auto p = j.find("properties"); p != j.end() && !p->is_null()) {
    if (!p->is_object()) throw TryJobError("Buildbot try job: 'properties' must be a map");
    for (auto it = p->begin(); it != p->end(); ++it)
      job.properties[it.key()] = it->is_string() ? it->get<std::string>() : it->dump();
  }
  return job;
}

}  // namespace

std::vector<std::string> splitNetstrings(std::string_view text) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t start = pos;
    std::size_t len = 0, digits = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (++digits > 10) throw TryJobError("netstring at byte " + std::to_string(start) + ": length too long");
      len = len * 10 + static_cast<std::size_t>(text[pos] - '0');
      ++pos;
    }
    if (digits == 0 || pos >= text.size() || text[pos] != ':')
      throw TryJobError("netstring at byte " + std::to_string(start) + ": expected 'LENGTH:'");
    ++pos;
    if (text.size() - pos < len + 1)
      throw TryJobError("netstring at byte " + std::to_string(start) + ": " + std::to_string(len) +
                        " bytes announced, the file ends first (cut short?)");
    out.emplace_back(text.substr(pos, len));
    pos += len;
    if (text[pos] != ',')
      throw TryJobError("netstring at byte " + std::to_string(start) + ": no ',' after its " +
                        std::to_string(len) + " bytes");
    ++pos;
  }
  return out;
}

TryJob parseBuildbotTryJob(std::string_view text) {
  std::vector<std::string> s = splitNetstrings(text);
  if (s.empty()) throw TryJobError("Buildbot try job: no netstrings");
  const std::string ver = s[0];
  TryJob job;
  if (ver == "1" || ver == "2" || ver == "3" || ver == "4") {
    const int v = ver[0] - '0';
    const std::size_t fixed = 5 + (v >= 2 ? 2 : 0) + (v >= 3 ? 1 : 0) + (v >= 4 ? 1 : 0);
    if (s.size() < 1 + fixed)
      throw TryJobError("Buildbot try job version " + ver + " needs " + std::to_string(fixed) +
                        " fields, the file has " + std::to_string(s.size() - 1));
    std::size_t i = 1;
    job.jobId = s[i++];
    job.branch = s[i++];
    job.baseRevision = s[i++];
    job.patchLevel = patchLevelOf(s[i++]);
    job.patch = s[i++];
    if (v >= 2) {
      job.repository = s[i++];
      job.project = s[i++];
    }
    if (v >= 3) job.who = s[i++];
    if (v >= 4) job.comment = s[i++];
    for (; i < s.size(); ++i) job.builders.push_back(s[i]);
  } else if (ver == "5" || ver == "6") {
    if (s.size() != 2)
      throw TryJobError("Buildbot try job version " + ver + " is one JSON netstring, the file has " +
                        std::to_string(s.size() - 1));
    job = fromJson(s[1], ver[0] - '0');
  } else {
    throw TryJobError("Buildbot try job: unknown version '" + ver.substr(0, 20) + "' (known: 1 to 6)");
  }
  job.format = "buildbot/" + ver;
  if (auto bad = checkTryJob(job); !bad.empty()) throw TryJobError("Buildbot try job: " + bad);
  return job;
}

std::string formatBuildbotTryJob(const TryJob& job, int version) {
  std::string out = ns(std::to_string(version));
  if (version >= 1 && version <= 4) {
    out += ns(job.jobId) + ns(job.branch) + ns(job.baseRevision) + ns(std::to_string(job.patchLevel)) + ns(job.patch);
    if (version >= 2) out += ns(job.repository) + ns(job.project);
    if (version >= 3) out += ns(job.who);
    if (version >= 4) out += ns(job.comment);
    for (const auto& b : job.builders) out += ns(b);
    return out;
  }
  if (version != 5 && version != 6) throw TryJobError("no Buildbot try job version " + std::to_string(version));
  Json j{{"jobid", job.jobId}, {"branch", job.branch}, {"baserev", job.baseRevision},
         {"patch_level", job.patchLevel}, {"repository", job.repository}, {"project", job.project},
         {"who", job.who}, {"comment", job.comment}, {"builderNames", job.builders},
         {"properties", job.properties}};
  if (version == 5)
    j["patch_body"] = job.patch;
  else
    j["patch_body_base64"] = base64Encode(job.patch);
  return out + ns(j.dump());
}

}  // namespace bb
