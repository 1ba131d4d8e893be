#include "client/verb_common.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <ostream>

#include "client/client_error.hpp"
#include "common/tls_cert.hpp"

namespace bb::client {

void addCommonOptions(po::options_description& desc) {
  desc.add_options()
      ("master,m", po::value<std::string>()->value_name("HOST:PORT"),
       "the master's slave_port (default: $BUILDBOT_MASTER, then 'master' in ~/.buildbot/options)")
      ("auth,a", po::value<std::string>()->value_name("USER[:PASSWORD]"),
       "a user in the master's config; without :PASSWORD the password is asked (default: "
       "$BUILDBOT_AUTH, then 'auth' in ~/.buildbot/options)")
      ("auth-file", po::value<std::string>()->value_name("FILE"),
       "read USER:PASSWORD from the first line of FILE")
      ("master-fingerprint", po::value<std::string>()->value_name("SHA256:..."),
       "the master's TLS certificate fingerprint (`buildmaster fingerprint DIR`; default: "
       "$BUILDBOT_MASTER_FINGERPRINT, then 'master_fingerprint' in ~/.buildbot/options)")
      ("ca-file", po::value<std::string>()->value_name("FILE"),
       "trust the master's certificate if it chains to a CA in this PEM file")
      ("plaintext", "plain TCP, for a master with tls: false")
      ("help,h", "show this help and exit");
}

po::variables_map parseVerbArgs(const std::string& verb, const std::vector<std::string>& args,
                                const po::options_description& desc,
                                const std::string& positionalName) {
  po::variables_map vm;
  try {
    po::positional_options_description pos;
    po::options_description all;
    all.add(desc);
    if (!positionalName.empty()) {
      pos.add(positionalName.c_str(), -1);
      // Positional words the verb does not list as an option are parsed
      // as a hidden list, so --help never shows an internal option.
      if (!desc.find_nothrow(positionalName, false))
        all.add_options()(positionalName.c_str(), po::value<std::vector<std::string>>(), "");
    }
    const int style = po::command_line_style::default_style &
                      ~po::command_line_style::allow_guessing;
    po::store(po::command_line_parser(args).options(all).positional(pos).style(style).run(), vm);
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
  if (vm.count("auth-file")) f.authFile = vm["auth-file"].as<std::string>();
  if (vm.count("master-fingerprint")) f.masterFingerprint = vm["master-fingerprint"].as<std::string>();
  if (vm.count("ca-file")) f.caFile = vm["ca-file"].as<std::string>();
  f.plaintext = vm.count("plaintext") > 0;
  return f;
}

void printVerbHelp(std::ostream& out, const std::string& verb, const std::string& synopsis,
                   const std::string& description, const po::options_description& desc) {
  out << "Usage: buildbot " << verb << " " << synopsis << "\n\n"
      << description << "\n\n"
      << desc << "\n"
      << "Connection settings: a flag wins over the environment (BUILDBOT_MASTER,\n"
      << "BUILDBOT_AUTH), which wins over ~/.buildbot/options (lines 'master = HOST:PORT'\n"
      << "and 'auth = USER:PASSWORD'). Keep passwords off the command line: use\n"
      << "BUILDBOT_AUTH, --auth-file FILE, or --auth USER to be asked.\n"
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

namespace {

// The first line of an --auth-file, without its line end.
std::string readAuthFile(const std::string& path) {
  std::ifstream f(path);
  if (!f) throw UsageError("cannot read --auth-file " + path + ": " + std::strerror(errno));
  std::string line;
  std::getline(f, line);
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  if (line.empty()) throw UsageError("--auth-file " + path + ": the first line is empty; write USER:PASSWORD there");
  return line;
}

template <typename Env>
MasterTrust resolveTrust(const ConnectionFlags& verb, const ConnectionFlags& global,
                         const std::map<std::string, std::string>& file, Env env) {
  MasterTrust t;
  const ResolvedSetting fp = resolveSetting(
      verb.masterFingerprint ? verb.masterFingerprint : global.masterFingerprint,
      env(kEnvMasterFingerprint), file, "master_fingerprint");
  const ResolvedSetting ca =
      resolveSetting(verb.caFile ? verb.caFile : global.caFile, std::nullopt, file, "ca_file");
  const bool plainFlag = verb.plaintext || global.plaintext;
  if (plainFlag) {
    if (fp.source == SettingSource::Flag || ca.source == SettingSource::Flag)
      throw UsageError("--plaintext cannot go with --master-fingerprint or --ca-file");
    t.tls = false;
    return t;
  }
  if (fp.value && !fp.value->empty()) {
    std::string why;
    auto canon = normalizeFingerprint(*fp.value, why);
    if (!canon)
      throw UsageError("bad master fingerprint '" + *fp.value + "' (from the " +
                       toString(fp.source) + "): " + why);
    t.fingerprint = *canon;
  }
  if (ca.value && !ca.value->empty()) t.caFile = *ca.value;
  if (!t.fingerprint.empty() || !t.caFile.empty()) return t;
  if (auto it = file.find("tls"); it != file.end() && it->second == "false") {
    t.tls = false;
    return t;
  }
  throw UsageError(
      "no way to trust the master: give --master-fingerprint SHA256:... (`buildmaster "
      "fingerprint DIR` prints it), set BUILDBOT_MASTER_FINGERPRINT, or put "
      "'master_fingerprint = SHA256:...' or 'ca_file = FILE' in ~/.buildbot/options; for a "
      "master with tls: false use --plaintext or 'tls = false'");
}

}  // namespace

Session openSession(const ConnectionFlags& verb, const ConnectionFlags& global, CliContext& ctx) {
  const std::string path =
      ctx.optionsPath.empty() ? defaultOptionsPath(ctx.getenv) : ctx.optionsPath;
  const auto file = loadOptionsFile(path);
  auto env = [&](const char* name) -> std::optional<std::string> {
    return ctx.getenv ? ctx.getenv(name) : std::nullopt;
  };
  const ResolvedSetting master =
      resolveSetting(verb.master ? verb.master : global.master, env(kEnvMaster), file, "master");
  const auto authFlag = verb.auth ? verb.auth : global.auth;
  const auto authFile = verb.authFile ? verb.authFile : global.authFile;
  if (authFlag && authFile)
    throw UsageError("give either --auth or --auth-file, not both");
  ResolvedSetting auth = resolveSetting(authFlag, env(kEnvAuth), file, "auth");
  if (authFile) auth = ResolvedSetting{readAuthFile(*authFile), SettingSource::AuthFile};
  if (!master.value)
    throw UsageError(
        "no master given: use --master HOST:PORT, set BUILDBOT_MASTER, or put "
        "'master = HOST:PORT' in ~/.buildbot/options");
  if (!auth.value)
    throw UsageError(
        "no credentials given: set BUILDBOT_AUTH=USER:PASSWORD, use --auth-file FILE or "
        "--auth USER (the password is then asked), or put 'auth = USER:PASSWORD' in "
        "~/.buildbot/options");
  MasterAddress address;
  Credentials creds;
  try {
    address = parseMasterAddress(*master.value);
  } catch (const UsageError& e) {
    throw UsageError(std::string(e.what()) + " (from the " + toString(master.source) + ")");
  }
  if (auth.value->find(':') == std::string::npos) {
    // A user name alone: ask for the password.
    if (auth.value->empty()) throw UsageError("bad --auth value: the user name is empty");
    std::optional<std::string> pw;
    if (ctx.readPassword)
      pw = ctx.readPassword("password for " + *auth.value + " at " + address.toString() + ": ");
    if (!pw)
      throw UsageError("no password for user '" + *auth.value + "' (from the " +
                       toString(auth.source) +
                       ") and no terminal to ask it on: give USER:PASSWORD in BUILDBOT_AUTH or "
                       "an --auth-file");
    creds = Credentials{*auth.value, *pw};
  } else {
    try {
      creds = parseAuth(*auth.value);
    } catch (const UsageError& e) {
      throw UsageError(std::string(e.what()) + " (from the " + toString(auth.source) + ")");
    }
    if (auth.source == SettingSource::Flag)
      *ctx.err << "buildbot: warning: a password given with --auth can be seen by other users "
                  "(ps, /proc); use BUILDBOT_AUTH, --auth-file FILE or --auth USER instead\n";
  }
  Session session{address, creds, nullptr};
  session.sender = ctx.connect(address, creds, resolveTrust(verb, global, file, env));
  return session;
}

}  // namespace bb::client
