#pragma once
// Argument parsing for the admin commands' verbs (`buildmaster VERB`,
// `buildslave VERB`): positional arguments shown by their names (DIR),
// --help that works with nothing else given, and usage errors that name
// what is missing ("DIR is missing") instead of an internal option name.
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <boost/program_options.hpp>

namespace bb {

struct VerbPositional {
  std::string key;   // the variables_map key ("dir")
  std::string name;  // as the user sees it ("DIR")
  std::string help;  // one line for --help
  bool required = true;
};

struct VerbSpec {
  std::string program;   // "buildmaster"
  std::string verb;      // "start"
  std::string synopsis;  // "start DIR [--nodaemon]"
  std::vector<VerbPositional> positionals;
};

struct ParsedVerb {
  boost::program_options::variables_map vm;
  bool help = false;  // --help was given and printed: exit 0
};

// Parses `args` against the spec's positionals and `options` (a -h/--help
// switch is added). --help prints "usage: PROGRAM SYNOPSIS", the
// positionals and the options to `out` before anything else is checked.
// A usage error prints one line to `err`, "PROGRAM VERB: WHAT (usage:
// PROGRAM SYNOPSIS)", and returns nullopt (the caller exits 2).
std::optional<ParsedVerb> parseVerb(const VerbSpec& spec,
                                    boost::program_options::options_description options,
                                    const std::vector<std::string>& args, std::ostream& out,
                                    std::ostream& err);

}  // namespace bb
