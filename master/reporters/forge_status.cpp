#include "master/reporters/forge_status.hpp"

#include <cctype>
#include <vector>

#include "common/message.hpp"  // Json

namespace bb {

namespace {

// GitHub cuts nothing but refuses a description over 140 characters;
// Gitea and GitLab take 255. One limit for all, cut on a UTF-8 boundary.
constexpr std::size_t kMaxDescription = 140;

std::string cutDescription(std::string s) {
  if (s.size() <= kMaxDescription) return s;
  std::size_t n = kMaxDescription - 3;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n) + "...";
}

std::vector<std::string> splitPath(const std::string& path) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i <= path.size()) {
    const auto j = path.find('/', i);
    const std::string part = path.substr(i, j == std::string::npos ? std::string::npos : j - i);
    if (!part.empty()) out.push_back(part);
    if (j == std::string::npos) break;
    i = j + 1;
  }
  return out;
}

}  // namespace

std::string_view toString(Forge f) {
  switch (f) {
    case Forge::GitHub: return "github";
    case Forge::GitLab: return "gitlab";
    case Forge::Gitea: return "gitea";
  }
  return "?";
}

std::string_view defaultForgeBaseUrl(Forge f) {
  switch (f) {
    case Forge::GitHub: return "https://api.github.com";
    case Forge::GitLab: return "https://gitlab.com";
    case Forge::Gitea: return "";
  }
  return "";
}

std::optional<std::string> forgeState(Forge f, const CommitStatus& s) {
  const bool gitlab = f == Forge::GitLab;
  switch (s.phase) {
    case BuildPhase::Requested: return "pending";
    case BuildPhase::Running: return gitlab ? "running" : "pending";
    case BuildPhase::Cancelled: return gitlab ? "canceled" : "error";
    case BuildPhase::Finished: break;
  }
  switch (s.result) {
    case Result::Success:
    case Result::Skipped: return "success";
    case Result::Warnings: return f == Forge::Gitea ? "warning" : "success";
    case Result::Failure: return gitlab ? "failed" : "failure";
    case Result::Exception: return gitlab ? "failed" : "error";
    case Result::Cancelled: return gitlab ? "canceled" : "error";
    case Result::Retry:
      if (gitlab) return std::nullopt;
      return "pending";
  }
  return std::nullopt;
}

std::optional<std::string> forgeRepoPath(Forge f, const std::string& url) {
  std::string path;
  bool hasHost = false;
  if (const auto scheme = url.find("://"); scheme != std::string::npos) {
    const auto slash = url.find('/', scheme + 3);
    hasHost = url.compare(0, scheme, "file") != 0;
    path = slash == std::string::npos ? "" : url.substr(slash);
  } else if (const auto colon = url.find(':');
             colon != std::string::npos && url.find('/') > colon && url.front() != '/') {
    hasHost = true;  // scp-like: [user@]host:owner/repo.git
    path = url.substr(colon + 1);
  } else {
    path = url;
  }
  if (const auto q = path.find_first_of("?#"); q != std::string::npos) path.resize(q);
  auto parts = splitPath(path);
  if (!parts.empty() && parts.back().size() > 4 && parts.back().ends_with(".git"))
    parts.back().resize(parts.back().size() - 4);
  if (parts.size() < 2) return std::nullopt;
  std::size_t first = parts.size() - 2;
  if (f == Forge::GitLab && hasHost) first = 0;  // groups and subgroups
  std::string out;
  for (std::size_t i = first; i < parts.size(); ++i) out += (out.empty() ? "" : "/") + parts[i];
  return out;
}

std::string urlEncode(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

HttpPost forgeStatusRequest(Forge f, const std::string& baseUrl, const std::string& repoPath,
                            const std::string& token, const CommitStatus& s, const std::string& state) {
  std::string base = baseUrl;
  while (!base.empty() && base.back() == '/') base.pop_back();
  HttpPost p;
  Json body{{"state", state}, {"target_url", s.targetUrl}, {"description", cutDescription(s.description)}};
  p.headers.emplace_back("Content-Type", "application/json");
  p.headers.emplace_back("User-Agent", "buildbot-cpp");
  switch (f) {
    case Forge::GitHub: {
      // owner and repo are path segments; each is encoded on its own.
      const auto slash = repoPath.find('/');
      p.url = base + "/repos/" + urlEncode(repoPath.substr(0, slash)) + "/" +
              urlEncode(repoPath.substr(slash + 1)) + "/statuses/" + urlEncode(s.sha);
      p.headers.emplace_back("Accept", "application/vnd.github+json");
      p.headers.emplace_back("X-GitHub-Api-Version", "2022-11-28");
      p.headers.emplace_back("Authorization", "Bearer " + token);
      body["context"] = s.context;
      break;
    }
    case Forge::Gitea: {
      const auto slash = repoPath.find('/');
      p.url = base + "/api/v1/repos/" + urlEncode(repoPath.substr(0, slash)) + "/" +
              urlEncode(repoPath.substr(slash + 1)) + "/statuses/" + urlEncode(s.sha);
      p.headers.emplace_back("Accept", "application/json");
      p.headers.emplace_back("Authorization", "token " + token);
      body["context"] = s.context;
      break;
    }
    case Forge::GitLab: {
      // The project is its numeric id or its full path, URL-encoded.
      p.url = base + "/api/v4/projects/" + urlEncode(repoPath) + "/statuses/" + urlEncode(s.sha);
      p.headers.emplace_back("Accept", "application/json");
      p.headers.emplace_back("PRIVATE-TOKEN", token);
      body["name"] = s.context;
      if (!s.branch.empty()) body["ref"] = s.branch;
      break;
    }
  }
  p.body = body.dump();
  return p;
}

}  // namespace bb
