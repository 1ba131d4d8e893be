#include "client/watch_command.hpp"

#include <ostream>

#include "client/client_error.hpp"
#include "client/event_format.hpp"

namespace bb::client {

namespace {

const char* kWatchSynopsis = "[--builder NAME] [--change ID] [--topic TOPIC]... [--json]";
const char* kWatchDescription =
    "Print the master's events as they happen, one line each, until Ctrl-C: changes,\n"
    "buildsets, requests, builds, steps, log output, slaves, locks and schedulers.\n"
    "--builder and --change narrow them to one builder, or to one change and what was\n"
    "built for it; --topic (repeatable) to topics: change, buildset, request, build,\n"
    "step, log, slave, lock, scheduler. Needs 'status' in the user's 'may' list.";

po::options_description watchOptions() {
  po::options_description desc("Options");
  addCommonOptions(desc);
  desc.add_options()
      ("builder", po::value<std::string>()->value_name("NAME"), "only events of this builder")
      ("change", po::value<std::int64_t>()->value_name("ID"),
       "only this change and the buildsets, builds and steps made for it")
      ("topic", po::value<std::vector<std::string>>()->composing()->value_name("TOPIC"),
       "only these topics (repeatable)")
      ("json", "one JSON object a line instead of text");
  return desc;
}

}  // namespace

int followEvents(RequestSender& sender, std::int64_t id, CliContext& ctx,
                 const std::function<bool(const Json&)>& onEvent, bool* interrupted) {
  while (true) {
    if (ctx.interrupted()) {
      if (interrupted) *interrupted = true;
      return kExitOk;
    }
    const std::optional<Json> frame = sender.nextEvents(ctx.eventSlice);
    if (!frame) continue;
    if (frame->value("subscription_id", std::int64_t{0}) != id) continue;
    if (auto ev = frame->find("events"); ev != frame->end() && ev->is_array())
      for (const auto& e : *ev)
        if (!onEvent(e)) return kExitOk;
    if (auto d = frame->find("dropped"); d != frame->end() && d->is_string())
      throw MasterError("dropped", "the master stopped sending events: " + d->get<std::string>(), {});
  }
}

int runWatch(const std::vector<std::string>& args, const ConnectionFlags& global, CliContext& ctx) {
  const po::variables_map vm = parseVerbArgs("watch", args, watchOptions());
  if (vm.count("help")) {
    printVerbHelp(*ctx.out, "watch", kWatchSynopsis, kWatchDescription, watchOptions());
    return kExitOk;
  }
  // Its frames are shared with every other client watching the same thing
  // and compressed once for all of them (MasterClient expands them).
  Json params{{"compression", "zstd"}};
  if (vm.count("builder")) params["builder"] = vm["builder"].as<std::string>();
  if (vm.count("change")) {
    if (vm["change"].as<std::int64_t>() < 1) throw UsageError("buildbot watch: --change must be a change id");
    params["change_id"] = vm["change"].as<std::int64_t>();
  }
  if (vm.count("topic")) params["topics"] = vm["topic"].as<std::vector<std::string>>();
  const bool json = vm.count("json") > 0;
  Session session = openSession(connectionFlags(vm), global, ctx);
  const Json sub = session.sender->call("subscribe", params);
  const std::int64_t id = sub.value("subscription_id", std::int64_t{0});
  std::ostream& out = *ctx.out;
  if (!json) out << "watching events (Ctrl-C to stop)\n" << std::flush;
  bool stopped = false;
  followEvents(*session.sender, id, ctx,
               [&](const Json& e) {
                 if (json) out << e.dump(-1, ' ', false, Json::error_handler_t::replace) << "\n";
                 else out << formatEvent(e) << "\n";
                 out.flush();
                 return true;
               },
               &stopped);
  return kExitOk;
}

}  // namespace bb::client
