#include "client/verb_common.hpp"

#include <ostream>

#include "client/client_error.hpp"

namespace bb::client {

void addCommonOptions(po::options_description& desc) {
  desc.add_options()
      ("master,m", po::value<std::string>()->value_name("HOST:PORT"),
       "the master's slave_port (default: $BUILDBOT_MASTER, then 'master' in ~/.buildbot/options)")
      ("auth,a", po::value<std::string>()->value_name("USER:PASSWORD"),
       "credentials of a user in the master's config (default: $BUILDBOT_AUTH, then 'auth' in "
       "~/.buildbot/options)")
      ("help,h", "show this help and exit");
}

po::variables_map parseVerbArgs(const std::string& verb, const std::vector<std::string>& args,
                                const po::options_description& desc,
                                const std::string& positionalName) {
  po::variables_map vm;
  try {
    po::positional_options_description pos;
    if (!positionalName.empty()) pos.add(positionalName.c_str(), -1);
    const int style = po::command_line_style::default_style &
                      ~po::command_line_style::allow_guessing;
    po::store(po::command_line_parser(args).options(desc).positional(pos).style(style).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    throw UsageError("buildbot " + verb + ": " + e.what() + " (see 'buildbot " + verb +
                     " --help')");
  }
  return vm;
}

ConnectionFlags connectionFlags(const po::variables_map& vm) {
  ConnectionFlags f;
  if (vm.count("master")) f.master = vm["master"].as<std::string>();
  if (vm.count("auth")) f.auth = vm["auth"].as<std::string>();
  return f;
}

void printVerbHelp(std::ostream& out, const std::string& verb, const std::string& synopsis,
                   const std::string& description, const po::options_description& desc) {
  out << "Usage: buildbot " << verb << " " << synopsis << "\n\n"
      << description << "\n\n"
      << desc << "\n"
      << "Connection settings: a flag wins over the environment (BUILDBOT_MASTER,\n"
      << "BUILDBOT_AUTH), which wins over ~/.buildbot/options (lines 'master = HOST:PORT'\n"
      << "and 'auth = USER:PASSWORD').\n"
      << "Exit codes: 0 ok, 1 the master answered with an error, 2 usage error,\n"
      << "3 connection or login failure.\n";
}

std::string formatMasterError(const std::string& verb, const MasterError& e) {
  std::string out = "buildbot " + verb + ": " + e.message() + "\n";
  for (const auto& line : e.details()) out += "  " + line + "\n";
  return out;
}

nlohmann::json masterErrorJson(const MasterError& e) {
  return nlohmann::json{{"code", e.code()}, {"message", e.message()}, {"details", e.details()}};
}

void printNotes(std::ostream& err, const std::string& verb, const nlohmann::json& result) {
  auto it = result.find("notes");
  if (it == result.end() || !it->is_array()) return;
  for (const auto& n : *it)
    if (n.is_string()) err << "buildbot " << verb << ": note: " << n.get<std::string>() << "\n";
}

Session openSession(const ConnectionFlags& verb,
                                           const ConnectionFlags& global, CliContext& ctx) {
  const std::string path =
      ctx.optionsPath.empty() ? defaultOptionsPath(ctx.getenv) : ctx.optionsPath;
  const auto file = loadOptionsFile(path);
  auto env = [&](const char* name) -> std::optional<std::string> {
    return ctx.getenv ? ctx.getenv(name) : std::nullopt;
  };
  const ResolvedSetting master =
      resolveSetting(verb.master ? verb.master : global.master, env(kEnvMaster), file, "master");
  const ResolvedSetting auth =
      resolveSetting(verb.auth ? verb.auth : global.auth, env(kEnvAuth), file, "auth");
  if (!master.value)
    throw UsageError(
        "no master given: use --master HOST:PORT, set BUILDBOT_MASTER, or put "
        "'master = HOST:PORT' in ~/.buildbot/options");
  if (!auth.value)
    throw UsageError(
        "no credentials given: use --auth USER:PASSWORD, set BUILDBOT_AUTH, or put "
        "'auth = USER:PASSWORD' in ~/.buildbot/options");
  MasterAddress address;
  Credentials creds;
  try {
    address = parseMasterAddress(*master.value);
  } catch (const UsageError& e) {
    throw UsageError(std::string(e.what()) + " (from the " + toString(master.source) + ")");
  }
  try {
    creds = parseAuth(*auth.value);
  } catch (const UsageError& e) {
    throw UsageError(std::string(e.what()) + " (from the " + toString(auth.source) + ")");
  }
  Session session{address, creds, nullptr};
  session.sender = ctx.connect(address, creds);
  return session;
}

}  // namespace bb::client
