#include "client/cli.hpp"

#include <algorithm>
#include <iostream>

#include "client/client_error.hpp"
#include "client/force_command.hpp"
#include "client/log_command.hpp"
#include "client/request_command.hpp"
#include "client/slave_command.hpp"
#include "client/sendchange_command.hpp"
#include "client/change_status_command.hpp"
#include "client/stats_command.hpp"
#include "client/status_command.hpp"
#include "client/try_command.hpp"
#include "client/tryserver_command.hpp"
#include "client/verb_common.hpp"
#include "client/watch_command.hpp"
#include "common/version.hpp"

namespace bb::client {

namespace {

using VerbFn = int (*)(const std::vector<std::string>&, const ConnectionFlags&, CliContext&);

struct Verb {
  const char* name;
  VerbFn run;
  const char* summary;
};

const Verb kVerbs[] = {
    {"sendchange", runSendchange, "announce a change (commit) to the master"},
    {"force", runForce, "start builds now through a force scheduler"},
    {"status", runStatus, "show the latest builds, or one build's steps and logs"},
    {"log", runLog, "print a build's logs, whole, or follow a running build live"},
    {"change-status", runChangeStatus, "show which schedulers built, wait on, or ignored a change"},
    {"stats", runStats, "show pass rates, durations, queue times and lock waits by week"},
    {"cancel", runCancel, "cancel pending build requests"},
    {"priority", runPriority, "change a build request's priority"},
    {"stop-build", runStopBuild, "stop a running build (it ends cancelled)"},
    {"stop-slave", runStopSlave, "stop a slave gracefully once its builds end"},
    {"watch", runWatch, "print the master's events as they happen"},
    {"try", runTry, "build your uncommitted patch on the master's builders"},
    {"tryserver", runTryserver, "write a try job from standard input into a job directory"},
};

// Takes the value of a global option: "--master X", "--master=X", "-m X".
bool takeGlobal(const std::vector<std::string>& args, std::size_t& i, const std::string& longName,
                const std::string& shortName, std::optional<std::string>& into) {
  const std::string& a = args[i];
  if (a.rfind(longName + "=", 0) == 0) {
    into = a.substr(longName.size() + 1);
    return true;
  }
  if (a == longName || (!shortName.empty() && a == shortName)) {
    if (i + 1 >= args.size()) throw UsageError("buildbot: " + longName + " needs a value");
    into = args[++i];
    return true;
  }
  return false;
}

}  // namespace

std::string topLevelUsage() {
  std::string s =
      "Usage: buildbot [--master HOST:PORT] [--auth USER | --auth-file FILE]\n"
      "                [--master-fingerprint SHA256:... | --ca-file FILE | --plaintext] VERB [options]\n"
      "       buildbot --version\n\n"
      "Verbs:\n";
  for (const auto& v : kVerbs) {
    std::string name = v.name;
    s += "  " + name + std::string(name.size() < 15 ? 15 - name.size() : 1, ' ') + v.summary + "\n";
  }
  s +=
      "\n'buildbot VERB --help' describes each verb's options.\n"
      "Connection settings: a flag wins over the environment (BUILDBOT_MASTER,\n"
      "BUILDBOT_AUTH), which wins over ~/.buildbot/options ('master = HOST:PORT',\n"
      "'auth = USER:PASSWORD'). --auth USER asks for the password; a password in\n"
      "--auth USER:PASSWORD works but other users can see it in `ps`.\n"
      "Exit codes: 0 ok, 1 the master answered with an error, 2 usage error,\n"
      "3 connection or login failure.\n";
  return s;
}

int runCli(const std::vector<std::string>& args, CliContext& ctx) {
  std::ostream& err = *ctx.err;
  std::string verb;
  bool json = false;
  try {
    ConnectionFlags global;
    std::size_t i = 0;
    for (; i < args.size(); ++i) {
      const std::string& a = args[i];
      if (a == "--help" || a == "-h") {
        *ctx.out << topLevelUsage();
        return kExitOk;
      }
      if (a == "--version") {
        *ctx.out << "buildbot " << kVersionLine << "\n";
        return kExitOk;
      }
      if (takeGlobal(args, i, "--master", "-m", global.master)) continue;
      if (takeGlobal(args, i, "--auth-file", "", global.authFile)) continue;
      if (takeGlobal(args, i, "--auth", "-a", global.auth)) continue;
      if (takeGlobal(args, i, "--master-fingerprint", "", global.masterFingerprint)) continue;
      if (takeGlobal(args, i, "--ca-file", "", global.caFile)) continue;
      if (a == "--plaintext") {
        global.plaintext = true;
        continue;
      }
      if (!a.empty() && a[0] == '-')
        throw UsageError("buildbot: unknown option '" + a + "' before the verb");
      break;
    }
    if (i >= args.size()) {
      err << "buildbot: no verb given\n\n" << topLevelUsage();
      return kExitUsage;
    }
    verb = args[i];
    const std::vector<std::string> rest(args.begin() + static_cast<long>(i) + 1, args.end());
    json = std::find(rest.begin(), rest.end(), "--json") != rest.end();
    for (const auto& v : kVerbs)
      if (verb == v.name) return v.run(rest, global, ctx);
    err << "buildbot: unknown verb '" << verb << "'\n\n" << topLevelUsage();
    return kExitUsage;
  } catch (const UsageError& e) {
    err << e.what() << "\n";
    return kExitUsage;
  } catch (const ConnectError& e) {
    err << "buildbot: " << e.what() << "\n";
    return kExitConnect;
  } catch (const MasterError& e) {
    // A user reads what to do; a script asking for --json also gets the code.
    if (json) *ctx.out << Json{{"error", masterErrorJson(e)}}.dump(2) << "\n";
    else err << formatMasterError(verb, e);
    return kExitMasterError;
  }
}

}  // namespace bb::client
