#include "client/slave_command.hpp"

#include <ostream>

#include "client/client_error.hpp"

namespace bb::client {

namespace {

const char* kStopSlaveDescription =
    "Stop a slave gracefully: it takes no new builds, the builds it runs finish,\n"
    "then the master tells it to exit (it exits 0 and does not reconnect). Builds\n"
    "waiting for a slave go to the builder's other slaves. Asked again while the\n"
    "slave drains, the answer is the same. Needs 'stop_slave' in the user's 'may'\n"
    "list.";

}  // namespace

int runStopSlave(const std::vector<std::string>& args, const ConnectionFlags& global, CliContext& ctx) {
  po::options_description desc("Options");
  addCommonOptions(desc);
  desc.add_options()("reason", po::value<std::string>()->value_name("TEXT"),
                     "why, one line; the slave's log and the master's say it");
  const po::variables_map vm = parseVerbArgs("stop-slave", args, desc, "args");
  if (vm.count("help")) {
    printVerbHelp(*ctx.out, "stop-slave", "NAME [--reason TEXT]", kStopSlaveDescription, desc);
    return kExitOk;
  }
  const auto words = vm.count("args") ? vm["args"].as<std::vector<std::string>>() : std::vector<std::string>{};
  if (words.size() != 1)
    throw UsageError("buildbot stop-slave: give the name of one slave, e.g. 'buildbot stop-slave linux1'");
  Json params{{"slave", words[0]}};
  if (vm.count("reason")) params["reason"] = vm["reason"].as<std::string>();
  Session session = openSession(connectionFlags(vm), global, ctx);
  const Json r = session.sender->call("stop_slave", params);
  const auto running = r.value("builds", 0);
  *ctx.out << "slave " << words[0] << " is draining: "
           << (running == 0 ? std::string("no build running, it stops now")
                            : std::to_string(running) + (running == 1 ? " build" : " builds") +
                                  " still running, it stops when they end")
           << "\n";
  return kExitOk;
}

}  // namespace bb::client
