#pragma once
// Whether a finished build is mailed under a reporter's modes (any one
// mode that matches suffices). docs/notifiers.md has the table.
#include <optional>
#include <set>

#include "common/results.hpp"
#include "master/reporters/mail_config.hpp"

namespace bb {

// `previous`: the result of the builder's build before this one (retried
// builds skipped), nullopt when there is none. A RETRY build is never
// mailed: its request runs again and that build is mailed.
//   all        every other result
//   failing    failure
//   passing    success
//   warnings   warnings
//   exception  exception
//   problem    failure after a build that did not fail (or after none)
//   change     the result differs from the previous build's (needs one)
bool mailWanted(const std::set<MailMode>& modes, Result r, std::optional<Result> previous);

}  // namespace bb
