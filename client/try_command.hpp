#pragma once
// `buildbot try`: builds the developer's patch on the master's builders
// before it lands (docs/try.md). Finds the patch in the git tree it runs
// in (or takes --diff), makes a try job and delivers it:
//  --connect local --jobdir DIR              runs `buildbot tryserver`
//  --connect ssh --host H [--username U] --jobdir DIR [--buildbotbin PATH]
//                                            runs it on H over ssh
// With --wait it follows the builds through the master (--master, --auth
// as for the other verbs) and exits 0 only if every build succeeded.
// Every option can also be set in the options file as try_OPTION
// (try_connect, try_jobdir, try_host, try_builders = "a,b", ...).
#include <string>
#include <vector>

#include "client/cli_context.hpp"
#include "client/verb_common.hpp"

namespace bb::client {

int runTry(const std::vector<std::string>& args, const ConnectionFlags& global, CliContext& ctx);

}  // namespace bb::client
