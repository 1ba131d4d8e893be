#pragma once
// The forges the master speaks to: their webhooks bring changes
// (changes/forge_payloads.hpp) and their status APIs are told of builds
// (reporters/forge_status.hpp).
namespace bb {

enum class Forge { GitHub, GitLab, Gitea };

}  // namespace bb
