#pragma once
// Pieces shared by every verb: the --master/--auth/--help options, argument
// parsing with usage errors, and opening the session with the settings
// resolved as flag > environment > options file.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/program_options.hpp>

#include "client/cli_context.hpp"
#include "client/client_error.hpp"

namespace bb::client {

namespace po = boost::program_options;

// The connection flags as given on the command line (global or per verb).
struct ConnectionFlags {
  std::optional<std::string> master;
  std::optional<std::string> auth;
  std::optional<std::string> authFile;
  std::optional<std::string> masterFingerprint;
  std::optional<std::string> caFile;
  bool plaintext = false;
};

// Adds -m/--master, -a/--auth, --auth-file, --master-fingerprint,
// --ca-file, --plaintext and -h/--help to `desc`.
void addCommonOptions(po::options_description& desc);

// Parses `args` (the words after the verb) against `desc`, with the named
// positional argument `positionalName` ("" for none); if `desc` does not
// list it, it is parsed as a hidden list of strings. Throws UsageError
// prefixed with "buildbot VERB: ".
po::variables_map parseVerbArgs(const std::string& verb, const std::vector<std::string>& args,
                                const po::options_description& desc,
                                const std::string& positionalName = "");

// The connection flags found in `vm` (from addCommonOptions).
ConnectionFlags connectionFlags(const po::variables_map& vm);

// Writes "Usage: buildbot VERB SYNOPSIS\n\nDESCRIPTION\n\n" + the options.
void printVerbHelp(std::ostream& out, const std::string& verb, const std::string& synopsis,
                   const std::string& description, const po::options_description& desc);

// What a user reads for a refusal: "buildbot VERB: MESSAGE" and each detail
// line indented. The protocol code (rejected, not_found, ...) is left out;
// masterErrorJson() keeps it for --json.
std::string formatMasterError(const std::string& verb, const MasterError& e);
// {"code": ..., "message": ..., "details": [...]}
nlohmann::json masterErrorJson(const MasterError& e);
// Writes each of the master's notes in `result` ("notes": [..]) to `err` as
// "buildbot VERB: note: ..." (things it did differently than asked).
void printNotes(std::ostream& err, const std::string& verb, const nlohmann::json& result);

struct Session {
  MasterAddress address;
  Credentials credentials;
  std::unique_ptr<RequestSender> sender;
};

// Resolves master and auth (verb flag > global flag > env > options file;
// --auth-file FILE counts as a flag), validates them (UsageError) and
// opens a session with ctx.connect. An auth value without ':' is a user
// name: the password is asked with ctx.readPassword (a UsageError if
// there is no terminal). A password given in --auth on the command line
// works, with a warning on ctx.err that `ps` shows it to other users.
// The master is trusted by --master-fingerprint > $BUILDBOT_MASTER_FINGERPRINT
// > master_fingerprint in the file, and/or --ca-file > ca_file; plain TCP
// only with --plaintext or `tls = false` in the file; none of these is a
// UsageError saying what to give.
Session openSession(const ConnectionFlags& verb,
                                           const ConnectionFlags& global, CliContext& ctx);

}  // namespace bb::client
