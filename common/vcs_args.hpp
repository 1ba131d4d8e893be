#pragma once
// Argument safety for version-control commands (the slave's source
// commands and the master's pollers). Branch names, revisions and
// repository URLs come from changes (a commit hook, a webhook, anyone who
// may sendchange), so they are never trusted: they are passed as argv
// entries (never through a shell), after a `--` where the tool allows it,
// and refused here when a tool could read them as an option. The checks
// throw ProtocolError, so the step fails with the reason in its log.
#include <string>

namespace bb::vcs {

// An empty value means "none" and passes. Refuses a value that starts with '-' (it would be read as an option,
// e.g. a branch named `-x` or `--upload-pack=...`), and any control
// character (newline, NUL...). `what` names the field in the error:
// "bad branch '-x': it starts with '-' and would be read as an option".
void checkArgument(const std::string& what, const std::string& value);

// checkArgument, plus: the host of a `scheme://[user@]host` URL (or of
// an scp-like `user@host:path`) must not start with '-' (ssh would read
// `ssh://-oProxyCommand=...` as an option), and remote-helper URLs that
// run commands (`ext::`, `fd::`) are refused.
void checkRepoUrl(const std::string& what, const std::string& url);

// checkArgument, plus no `..` path segment and no leading '/': a
// Subversion branch is a path under the repository's base URL and must
// stay under it.
void checkBranchPath(const std::string& what, const std::string& branch);

}  // namespace bb::vcs
