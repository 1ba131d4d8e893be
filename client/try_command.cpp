#include "client/try_command.hpp"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <ostream>
#include <thread>

#include "client/event_format.hpp"
#include "client/force_command.hpp"
#include "client/status_format.hpp"
#include "client/try_master.hpp"
#include "client/try_source.hpp"
#include "client/watch_command.hpp"
#include "common/subprocess.hpp"
#include "common/try_job.hpp"

namespace bb::client {

namespace {

const char* kTrySynopsis = "[-b BUILDER]... [--connect local|ssh|master] [--jobdir DIR] [options]";
const char* kTryDescription =
    "Build your patch on the master's builders before it lands. In a git tree, the patch is\n"
    "your local commits and uncommitted changes against the merge-base with the tracked\n"
    "upstream branch (the base revision); or give it with --diff FILE|- and --baserev.\n"
    "--connect local writes the job into a try_jobdir scheduler's job directory on this host\n"
    "(through 'buildbot tryserver'); --connect ssh does so on --host over ssh; --connect master\n"
    "sends it to a try_userpass scheduler over the client protocol (--master, --auth; the user\n"
    "needs 'try'). --wait then follows the builds through the master (needs 'status').\n"
    "Any option may be set in the options file as try_NAME (e.g. try_builders = a,b).";

po::options_description tryOptions() {
  po::options_description desc("Options");
  addCommonOptions(desc);
  desc.add_options()
      ("connect,c", po::value<std::string>()->value_name("local|ssh|master"), "how to send the job")
      ("scheduler", po::value<std::string>()->value_name("NAME"),
       "the try_userpass scheduler (--connect master; default: the master's only one)")
      ("get-builder-names", "list the builders the try_userpass scheduler lets you try (--connect master)")
      ("jobdir", po::value<std::string>()->value_name("DIR"), "the try_jobdir scheduler's job directory")
      ("host", po::value<std::string>()->value_name("HOST"), "the master's host (--connect ssh)")
      ("username,u", po::value<std::string>()->value_name("USER"), "the ssh user (--connect ssh)")
      ("buildbotbin", po::value<std::string>()->value_name("PATH"),
       "the buildbot program on the host (--connect ssh; default: buildbot)")
      ("builder,b", po::value<std::vector<std::string>>()->composing()->value_name("NAME"),
       "a builder to try on (repeatable; required)")
      ("branch", po::value<std::string>()->value_name("BRANCH"), "the branch (default: the upstream's)")
      ("repository", po::value<std::string>()->value_name("URL"), "the repository")
      ("project", po::value<std::string>()->value_name("NAME"), "the project")
      ("property", po::value<std::vector<std::string>>()->composing()->value_name("NAME=VALUE"),
       "a build property (repeatable)")
      ("who", po::value<std::string>()->value_name("WHO"), "who asks (default: $USER)")
      ("comment", po::value<std::string>()->value_name("TEXT"), "what the patch is about")
      ("diff", po::value<std::string>()->value_name("FILE"), "the patch file ('-': standard input)")
      ("baserev", po::value<std::string>()->value_name("REV"), "the base revision (with --diff)")
      ("patchlevel,p", po::value<int>()->value_name("N"), "components to strip from patch paths (with --diff; default 1)")
      ("dryrun,n", "show the job that would be sent, and send nothing")
      ("wait", "follow the builds; exit 0 only if every build succeeded")
      ("quiet,q", "print only errors (and, with --wait, the result)");
  return desc;
}

// A setting from the command line, else try_KEY in the options file.
std::string setting(const po::variables_map& vm, const std::map<std::string, std::string>& file,
                    const char* key) {
  if (vm.count(key)) return vm[key].as<std::string>();
  auto it = file.find(std::string("try_") + key);
  return it == file.end() ? "" : it->second;
}

std::vector<std::string> splitList(const std::string& s) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos <= s.size()) {
    auto comma = s.find(',', pos);
    if (comma == std::string::npos) comma = s.size();
    std::string item = s.substr(pos, comma - pos);
    while (!item.empty() && item.front() == ' ') item.erase(0, 1);
    while (!item.empty() && item.back() == ' ') item.pop_back();
    if (!item.empty()) out.push_back(item);
    pos = comma + 1;
  }
  return out;
}

std::string selfPath() {
  char buf[4096];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string("buildbot");
}

// Follows the job's BuildSet through the master until it completes.
int waitForJob(const std::string& jobId, Session& session, bool quiet, CliContext& ctx) {
  std::ostream& out = *ctx.out;
  Json found;
  // The scheduler takes the job from the directory within moments; a bounded wait.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (true) {
    found = session.sender->call("try_job", Json{{"job_id", jobId}});
    if (found.value("buildset_id", Json()).is_number_integer()) break;
    if (!found.value("refused", std::string()).empty()) {
      *ctx.err << "buildbot try: the master refused job " << jobId << ": " << found["refused"].get<std::string>() << "\n";
      return kExitMasterError;
    }
    if (std::chrono::steady_clock::now() > deadline || ctx.interrupted()) {
      *ctx.err << "buildbot try: job " << jobId << " was not taken by the master within 120 s\n";
      return kExitMasterError;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const Json buildsetId = found["buildset_id"];
  if (!quiet) out << "job " << jobId << " is buildset " << cellText(buildsetId) << "\n" << std::flush;
  const Json subscribed = session.sender->call("subscribe", Json{{"buildset_id", buildsetId}});
  const std::int64_t subId = subscribed.value("subscription_id", std::int64_t{0});
  Json bs = session.sender->call("buildset", Json{{"id", buildsetId}}).value("buildset", Json::object());
  bool interrupted = false;
  if (!bs.value("complete", false)) {
    followEvents(*session.sender, subId, ctx,
                 [&](const Json& e) {
                   const std::string type = e.value("type", "");
                   if (!quiet && (type == "build.started" || type == "step.finished" || type == "build.finished"))
                     out << "  " << formatEvent(e) << "\n" << std::flush;
                   return type != "buildset.completed";
                 },
                 &interrupted);
    if (interrupted) {
      out << "stopped waiting; buildset " << cellText(buildsetId) << " and its builds keep running on the master\n";
      return kExitMasterError;
    }
    bs = session.sender->call("buildset", Json{{"id", buildsetId}}).value("buildset", Json::object());
  }
  const std::string overall = cellText(bs.value("result", Json()));
  out << "try job " << jobId << ": buildset " << cellText(buildsetId) << " complete: " << overall << "\n";
  return isPassingResult(overall) ? kExitOk : kExitMasterError;
}

}  // namespace

int runTry(const std::vector<std::string>& args, const ConnectionFlags& global, CliContext& ctx) {
  const po::variables_map vm = parseVerbArgs("try", args, tryOptions());
  if (vm.count("help")) {
    printVerbHelp(*ctx.out, "try", kTrySynopsis, kTryDescription, tryOptions());
    return kExitOk;
  }
  const std::string optionsPath = ctx.optionsPath.empty() ? defaultOptionsPath(ctx.getenv) : ctx.optionsPath;
  const auto file = optionsPath.empty() ? std::map<std::string, std::string>{} : loadOptionsFile(optionsPath);
  const std::string connect = setting(vm, file, "connect");
  if (vm.count("get-builder-names")) {
    if (connect != "master") throw UsageError("buildbot try: --get-builder-names needs --connect master");
    Session session = openSession(connectionFlags(vm), global, ctx);
    for (const auto& b : tryBuilderNames(*session.sender, setting(vm, file, "scheduler"))) *ctx.out << b << "\n";
    return kExitOk;
  }
  TryJob job;
  job.jobId = newTryJobId();
  job.builders = vm.count("builder") ? vm["builder"].as<std::vector<std::string>>() : splitList(setting(vm, file, "builders"));
  if (job.builders.empty())
    throw UsageError("buildbot try: name at least one builder (-b NAME, or try_builders in the options file)");
  const std::string diff = setting(vm, file, "diff");
  if (!diff.empty()) {
    if (diff == "-") {
      job.patch.assign(std::istreambuf_iterator<char>(*ctx.in), {});
    } else {
      std::ifstream in(diff, std::ios::binary);
      if (!in) throw UsageError("buildbot try: cannot read --diff file '" + diff + "'");
      job.patch.assign(std::istreambuf_iterator<char>(in), {});
    }
    job.baseRevision = setting(vm, file, "baserev");
    job.patchLevel = vm.count("patchlevel") ? vm["patchlevel"].as<int>() : 1;
  } else {
    if (vm.count("baserev")) throw UsageError("buildbot try: --baserev goes with --diff");
    TrySource src = findTrySource(".");
    job.baseRevision = src.baseRevision;
    job.branch = src.branch;
    job.patch = std::move(src.patch);
    job.patchLevel = src.patchLevel;
  }
  if (auto b = setting(vm, file, "branch"); !b.empty()) job.branch = b;
  job.repository = setting(vm, file, "repository");
  job.project = setting(vm, file, "project");
  job.comment = setting(vm, file, "comment");
  job.who = setting(vm, file, "who");
  if (job.who.empty()) job.who = ctx.getenv("USER").value_or("");
  if (vm.count("property"))
    for (const auto& p : vm["property"].as<std::vector<std::string>>()) {
      auto eq = p.find('=');
      if (eq == std::string::npos || eq == 0) throw UsageError("buildbot try: --property is NAME=VALUE, not '" + p + "'");
      job.properties[p.substr(0, eq)] = p.substr(eq + 1);
    }
  std::string text;
  try {
    text = formatTryJob(job);
  } catch (const TryJobError& e) {
    throw UsageError(std::string("buildbot try: ") + e.what());
  }
  const bool quiet = vm.count("quiet") > 0;
  const bool wait = vm.count("wait") > 0 || setting(vm, file, "wait") == "true";
  if (vm.count("dryrun")) {
    *ctx.out << text;
    return kExitOk;
  }
  const std::string jobdir = setting(vm, file, "jobdir");
  std::vector<std::string> argv;
  if (connect == "master") {
    Session session = openSession(connectionFlags(vm), global, ctx);
    const TryDelivery d = sendTryOverMaster(*session.sender, job, setting(vm, file, "scheduler"));
    if (!quiet)
      *ctx.out << "try job " << job.jobId << " sent to scheduler " << d.scheduler << " (" << job.patch.size()
               << " patch bytes in " << d.chunks << " chunk(s) on "
               << (job.baseRevision.empty() ? std::string("the branch head") : job.baseRevision) << "): buildset "
               << d.buildsetId << "\n";
    if (!wait) return kExitOk;
    return waitForJob(job.jobId, session, quiet, ctx);
  }
  if (connect == "local") {
    if (jobdir.empty()) throw UsageError("buildbot try: --connect local needs --jobdir DIR");
    argv = {selfPath(), "tryserver", "--jobdir", jobdir};
  } else if (connect == "ssh") {
    const std::string host = setting(vm, file, "host");
    if (host.empty() || jobdir.empty()) throw UsageError("buildbot try: --connect ssh needs --host HOST and --jobdir DIR");
    const std::string user = setting(vm, file, "username");
    std::string bin = setting(vm, file, "buildbotbin");
    if (bin.empty()) bin = "buildbot";
    argv = {"ssh"};
    if (auto opts = ctx.getenv("BUILDBOT_TRY_SSH_OPTIONS")) {  // e.g. "-p 2222 -i KEY" (tests, odd hosts)
      for (const auto& o : splitList([&] { std::string s = *opts; for (auto& c : s) if (c == ' ') c = ','; return s; }()))
        argv.push_back(o);
    }
    argv.push_back((user.empty() ? "" : user + "@") + host);
    // ssh joins its words with spaces for the remote shell: quote them.
    auto q = [](const std::string& s) {
      std::string out = "'";
      for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
      return out + "'";
    };
    argv.push_back(q(bin) + " tryserver --jobdir " + q(jobdir));
  } else {
    throw UsageError("buildbot try: --connect must be 'local', 'ssh' or 'master' (or try_connect in the options file), not '" +
                     connect + "'");
  }
  ::signal(SIGPIPE, SIG_IGN);  // a tryserver that dies early is reported, not fatal
  const SubprocessResult r = runSubprocess(argv, "", std::chrono::seconds(120), &text);
  if (r.exitCode != 0) {
    *ctx.err << "buildbot try: delivering the job failed (" << argv[0] << " exit " << r.exitCode << "): " << r.err;
    if (!r.err.empty() && r.err.back() != '\n') *ctx.err << "\n";
    return kExitConnect;
  }
  if (!quiet)
    *ctx.out << "try job " << job.jobId << " delivered (" << job.patch.size() << " patch bytes on "
             << (job.baseRevision.empty() ? std::string("the branch head") : job.baseRevision) << ")\n";
  if (!wait) return kExitOk;
  Session session = openSession(connectionFlags(vm), global, ctx);
  return waitForJob(job.jobId, session, quiet, ctx);
}

}  // namespace bb::client
