#include "master/reporters/irc_commands.hpp"

#include <algorithm>
#include <sstream>

#include <spdlog/spdlog.h>

#include "common/results.hpp"
#include "master/db/database.hpp"
#include "master/reporters/irc_line.hpp"
#include "master/reporters/mail_composer.hpp"  // buildUrl
#include "master/status/rpc_handler.hpp"
#include "master/status/views.hpp"

namespace bb {

namespace {

// Bad input from IRC: answered with its message, never logged as an error.
struct IrcCommandError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::vector<std::string> words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

std::string joinFrom(const std::vector<std::string>& a, std::size_t from) {
  std::string out;
  for (std::size_t i = from; i < a.size(); ++i) out += (out.empty() ? "" : " ") + a[i];
  return out;
}

std::int64_t ircNumber(const std::string& s, const char* what) {
  try {
    std::size_t used = 0;
    const long long v = std::stoll(s, &used);
    if (used == s.size() && v > 0) return v;
  } catch (const std::exception&) {
  }
  throw IrcCommandError(std::string(what) + " must be a positive number, got '" + s + "'");
}

std::string rpcMessage(const RpcError& e) {
  std::string msg = e.what();
  for (const auto& d : e.details) msg += "; " + d;
  return msg;
}

// One line of a JSON value, for the scheduler's own state.
std::string compact(const Json& j) {
  if (j.is_string()) return j.get<std::string>();
  std::string s = j.dump();
  return s.size() > 300 ? s.substr(0, 297) + "..." : s;
}

const char* kIrcUsage[] = {
    "help: this list",
    "list builders|slaves|changes|schedulers",
    "status [BUILDER]: what each builder does",
    "last [BUILDER]: the last finished build",
    "watch BUILDER: say when its running build ends",
    "notify on|off EVENT...: this channel's announcements (events: ",
    "change-status ID: what the schedulers did with a change",
    "scheduler NAME: its state, next fire time, held changes",
    "force BUILDER [BRANCH] [REVISION] [REASON...]: start a build (authorised nicks)",
    "submit SCHEDULER [builders=B1,B2] [branch=X] [revision=X] [reason=X]: a BuildSet through a force scheduler "
    "(authorised nicks)",
    "stop BUILDER NUMBER [REASON...]: stop a running build (authorised nicks)",
    "cancel REQUEST: cancel a pending build request (authorised nicks)",
};

}  // namespace

IrcCommands::IrcCommands(const IrcOptions& opts, ReporterServices& services, std::string reporterName)
    : opts_(opts), services_(services), name_(std::move(reporterName)) {
  for (const auto& c : opts_.channels) notify_[c.name] = c.notify;
}

const std::set<IrcEvent>& IrcCommands::notify(const std::string& channel) { return notify_[channel]; }

std::vector<std::string> IrcCommands::takeWatchers(std::int64_t buildId) {
  auto it = watchers_.find(buildId);
  if (it == watchers_.end()) return {};
  std::vector<std::string> out(it->second.begin(), it->second.end());
  watchers_.erase(it);
  return out;
}

std::string IrcCommands::describeBuild(const db::BuildRecord& b) const {
  std::string s = b.builder + " #" + std::to_string(b.number) + ": " +
                  resultText(b.finished, b.result, "running");
  if (!b.text.empty()) s += " (" + b.text + ")";
  if (!services_.config().master.url.empty()) s += " " + buildUrl(services_.config().master, b.builder, b.number);
  return s;
}

bool IrcCommands::authorized(const std::string& nick) const {
  return std::any_of(opts_.authorized.begin(), opts_.authorized.end(),
                     [&](const std::string& p) { return ircNickMatches(p, nick); });
}

const BuilderEntry& IrcCommands::builder(const std::string& name) const {
  if (const auto* b = services_.config().findBuilder(name)) return *b;
  std::string known;
  for (const auto& b : services_.config().builders) known += (known.empty() ? "" : ", ") + b.name;
  throw IrcCommandError("no builder named '" + name + "' (builders: " + known + ")");
}

std::vector<std::string> IrcCommands::run(const std::string& nick, const std::string& channel,
                                          const std::string& text) {
  const Args a = words(text);
  if (a.empty()) return {"say 'help' for the commands"};
  const std::string& cmd = a[0];
  const std::string replyTo = channel.empty() ? nick : channel;
  try {
    if (cmd == "help") return help();
    if (cmd == "list") return list(a);
    if (cmd == "status") return status(a);
    if (cmd == "last") return last(a);
    if (cmd == "watch") return watch(a, replyTo);
    if (cmd == "notify") return notifyCommand(a, channel);
    if (cmd == "change-status") return changeStatus(a);
    if (cmd == "scheduler") return scheduler(a);
    if (cmd == "force" || cmd == "submit" || cmd == "stop" || cmd == "cancel") {
      if (!authorized(nick)) {
        spdlog::warn("irc reporter '{}': {} may not {} (not in `authorized`)", name_, nick, cmd);
        return {nick + ": you are not authorised to " + cmd};
      }
      if (cmd == "force") return force(a, nick);
      if (cmd == "submit") return submit(a, nick);
      if (cmd == "stop") return stop(a, nick);
      return cancel(a, nick);
    }
    return {"unknown command '" + cmd + "'; say 'help' for the commands"};
  } catch (const IrcCommandError& e) {
    return {cmd + ": " + e.what()};
  } catch (const RpcError& e) {
    return {cmd + ": " + rpcMessage(e)};
  }
}

std::vector<std::string> IrcCommands::help() const {
  std::vector<std::string> out;
  for (const char* u : kIrcUsage) out.push_back(u);
  out[5] += ircEventList() + ")";
  return out;
}

std::vector<std::string> IrcCommands::list(const Args& a) {
  const std::string what = a.size() > 1 ? a[1] : "";
  const auto& cfg = services_.config();
  std::string out;
  if (what == "builders") {
    for (const auto& b : cfg.builders) out += (out.empty() ? "" : ", ") + b.name;
    return {"builders: " + (out.empty() ? std::string("none") : out)};
  }
  if (what == "slaves") {
    const Json st = services_.rpc->read("status", Json::object());
    for (const auto& s : st["slaves"])
      out += (out.empty() ? "" : ", ") + s["name"].get<std::string>() + " (" + s["state"].get<std::string>() + ")";
    return {"slaves: " + (out.empty() ? std::string("none") : out)};
  }
  if (what == "changes") {
    std::vector<std::string> lines;
    for (const auto& c : services_.db.recentChanges(5))
      lines.push_back("change " + std::to_string(c.id) + " by " + c.author + " on " +
                      (c.branch.empty() ? std::string("(default branch)") : c.branch) + " " +
                      c.revision.substr(0, 12) + ": " + c.comments.substr(0, c.comments.find('\n')));
    if (lines.empty()) lines.push_back("no changes yet");
    return lines;
  }
  if (what == "schedulers") {
    for (const auto& s : cfg.schedulers) out += (out.empty() ? "" : ", ") + s.name + " (" + s.type + ")";
    return {"schedulers: " + (out.empty() ? std::string("none") : out)};
  }
  throw IrcCommandError("list what? builders, slaves, changes or schedulers");
}

std::vector<std::string> IrcCommands::status(const Args& a) {
  if (a.size() > 2) throw IrcCommandError("usage: status [BUILDER]");
  Json params{{"limit", 5}};
  if (a.size() == 2) params["builder"] = builder(a[1]).name;
  const Json st = services_.rpc->read("status", params);
  std::vector<std::string> out;
  for (const auto& b : st["builders"]) {
    std::string running, lastDone;
    for (const auto& bv : b["builds"]) {
      if (!bv["finished"].get<bool>()) running += (running.empty() ? "" : ", ") + ("#" + std::to_string(bv["number"].get<int>()));
      else if (lastDone.empty())
        lastDone = "#" + std::to_string(bv["number"].get<int>()) + " " + bv["result"].get<std::string>();
    }
    std::string line = b["name"].get<std::string>() + ": " + (running.empty() ? "idle" : "building " + running);
    const auto pending = b["pending_count"].get<std::size_t>();
    if (pending) line += ", " + std::to_string(pending) + " pending";
    line += lastDone.empty() ? ", no build finished yet" : ", last " + lastDone;
    out.push_back(line);
  }
  if (out.empty()) out.push_back("no builders");
  return out;
}

std::vector<std::string> IrcCommands::last(const Args& a) {
  if (a.size() > 2) throw IrcCommandError("usage: last [BUILDER]");
  std::vector<std::string> out;
  for (const auto& b : services_.config().builders) {
    if (a.size() == 2 && b.name != builder(a[1]).name) continue;
    std::optional<db::BuildRecord> done;
    for (const auto& r : services_.db.lastBuilds(b.name, 20))
      if (r.finished) {
        done = r;
        break;
      }
    out.push_back(done ? describeBuild(*done) : b.name + ": no build finished yet");
  }
  return out;
}

std::vector<std::string> IrcCommands::watch(const Args& a, const std::string& replyTo) {
  if (a.size() != 2) throw IrcCommandError("usage: watch BUILDER");
  const auto& b = builder(a[1]);
  std::vector<std::string> nums;
  for (const auto& r : services_.db.lastBuilds(b.name, 20))
    if (!r.finished) {
      watchers_[r.id].insert(replyTo);
      nums.push_back("#" + std::to_string(r.number));
    }
  if (nums.empty()) return {b.name + " has no running build to watch"};
  std::string list;
  for (const auto& n : nums) list += (list.empty() ? "" : ", ") + n;
  return {"watching " + b.name + " " + list + ": I will say when it ends"};
}

std::vector<std::string> IrcCommands::notifyCommand(const Args& a, const std::string& channel) {
  if (channel.empty()) throw IrcCommandError("notify works in a channel, not in a private message");
  if (a.size() < 2 || (a[1] != "on" && a[1] != "off" && a[1] != "list"))
    throw IrcCommandError("usage: notify on|off EVENT... or notify list (events: " + ircEventList() + ")");
  auto& set = notify_[channel];
  if (a[1] != "list") {
    if (a.size() < 3) throw IrcCommandError("which events? " + ircEventList());
    std::set<IrcEvent> evs;
    for (std::size_t i = 2; i < a.size(); ++i) {
      auto ev = ircEventFromString(a[i]);
      if (!ev) throw IrcCommandError("unknown event '" + a[i] + "' (events: " + ircEventList() + ")");
      evs.insert(*ev);
    }
    for (auto ev : evs) {
      if (a[1] == "on") set.insert(ev);
      else set.erase(ev);
    }
  }
  std::string now;
  for (auto ev : set) now += (now.empty() ? "" : ", ") + std::string(toString(ev));
  return {channel + " is told of: " + (now.empty() ? std::string("nothing") : now)};
}

std::vector<std::string> IrcCommands::changeStatus(const Args& a) {
  if (a.size() != 2) throw IrcCommandError("usage: change-status ID");
  const Json r = services_.rpc->read("change_status", Json{{"change_id", ircNumber(a[1], "ID")}});
  const Json& c = r["change"];
  std::vector<std::string> out{"change " + std::to_string(c["id"].get<std::int64_t>()) + " by " +
                               c["author"].get<std::string>() + " on " + c["branch"].get<std::string>() + " " +
                               c["revision"].get<std::string>().substr(0, 12)};
  for (const auto& s : r["schedulers"]) {
    std::string line = "  " + s["scheduler"].get<std::string>() + ": " + compact(s.value("state", Json("-")));
    if (s.contains("buildsets")) line += " buildsets " + compact(s["buildsets"]);
    if (s.contains("reason")) line += " (" + compact(s["reason"]) + ")";
    out.push_back(line);
  }
  if (r["schedulers"].empty()) out.push_back("  no scheduler looks at it");
  return out;
}

std::vector<std::string> IrcCommands::scheduler(const Args& a) {
  if (a.size() != 2) throw IrcCommandError("usage: scheduler NAME");
  const Json st = services_.rpc->read("status", Json::object());
  for (const auto& s : st["schedulers"]) {
    if (s["name"] != a[1]) continue;
    std::string line = s["name"].get<std::string>() + " (" + s["type"].get<std::string>() + ")";
    for (const auto& [k, v] : s.items())
      if (k != "name" && k != "type") line += " " + k + "=" + compact(v);
    return {line};
  }
  std::string known;
  for (const auto& s : services_.config().schedulers) known += (known.empty() ? "" : ", ") + s.name;
  throw IrcCommandError("no scheduler named '" + a[1] + "' (schedulers: " + known + ")");
}

std::vector<std::string> IrcCommands::force(const Args& a, const std::string& nick) {
  if (a.size() < 2) throw IrcCommandError("usage: force BUILDER [BRANCH] [REVISION] [REASON...]");
  const auto& b = builder(a[1]);
  // The force scheduler that may start this builder (the first listed).
  const SchedulerEntry* via = nullptr;
  for (const auto& s : services_.config().schedulers)
    if (s.type == "force" && std::find(s.builders.begin(), s.builders.end(), b.name) != s.builders.end()) {
      via = &s;
      break;
    }
  if (!via) throw IrcCommandError("no force scheduler starts " + b.name);
  Json p{{"scheduler", via->name}, {"builders", Json::array({b.name})}};
  if (a.size() > 2) p["branch"] = a[2];
  if (a.size() > 3) p["revision"] = a[3];
  const std::string reason = joinFrom(a, 4);
  p["reason"] = "forced by " + nick + " on IRC" + (reason.empty() ? "" : ": " + reason);
  const Json r = services_.rpc->callChecked("irc:" + nick, "force", p);
  spdlog::info("irc reporter '{}': {} forced {} (BuildSet {})", name_, nick, b.name, r["buildset_id"].dump());
  return {"forced " + b.name + ": BuildSet " + r["buildset_id"].dump() + ", request " +
          r["requests"].value(b.name, Json()).dump()};
}

std::vector<std::string> IrcCommands::submit(const Args& a, const std::string& nick) {
  if (a.size() < 2) throw IrcCommandError("usage: submit SCHEDULER [builders=B1,B2] [branch=X] [revision=X] [reason=X...]");
  Json p{{"scheduler", a[1]}};
  std::string reason;
  for (std::size_t i = 2; i < a.size(); ++i) {
    const auto eq = a[i].find('=');
    const std::string key = eq == std::string::npos ? "" : a[i].substr(0, eq), val = a[i].substr(eq + 1);
    if (key == "builders") {
      Json list = Json::array();
      for (std::size_t s = 0, e; s <= val.size(); s = e + 1) {
        e = std::min(val.find(',', s), val.size());
        if (e > s) list.push_back(builder(val.substr(s, e - s)).name);
      }
      p["builders"] = list;
    } else if (key == "branch" || key == "revision" || key == "repository" || key == "project") {
      p[key] = val;
    } else if (key == "reason") {
      reason = val + (i + 1 < a.size() ? " " + joinFrom(a, i + 1) : "");
      break;
    } else {
      throw IrcCommandError("unknown argument '" + a[i] + "' (builders=, branch=, revision=, repository=, "
                            "project=, reason=)");
    }
  }
  p["reason"] = "submitted by " + nick + " on IRC" + (reason.empty() ? "" : ": " + reason);
  const Json r = services_.rpc->callChecked("irc:" + nick, "force", p);
  spdlog::info("irc reporter '{}': {} submitted through {} (BuildSet {})", name_, nick, a[1],
               r["buildset_id"].dump());
  std::string reqs;
  for (const auto& [b, id] : r["requests"].items()) reqs += (reqs.empty() ? "" : ", ") + b + " " + id.dump();
  return {"BuildSet " + r["buildset_id"].dump() + " submitted through " + a[1] + ": requests " + reqs};
}

std::vector<std::string> IrcCommands::stop(const Args& a, const std::string& nick) {
  if (a.size() < 3) throw IrcCommandError("usage: stop BUILDER NUMBER [REASON...]");
  Json p{{"builder", builder(a[1]).name}, {"number", ircNumber(a[2], "NUMBER")}, {"reason", joinFrom(a, 3)}};
  services_.rpc->callChecked("irc:" + nick, "stop_build", p);
  spdlog::info("irc reporter '{}': {} stopped {} #{}", name_, nick, a[1], a[2]);
  return {"stopping " + a[1] + " #" + a[2]};
}

std::vector<std::string> IrcCommands::cancel(const Args& a, const std::string& nick) {
  if (a.size() != 2) throw IrcCommandError("usage: cancel REQUEST");
  const Json r = services_.rpc->callChecked("irc:" + nick, "cancel", Json{{"request_id", ircNumber(a[1], "REQUEST")}});
  spdlog::info("irc reporter '{}': {} cancelled request {}", name_, nick, a[1]);
  return {"request " + a[1] + ": " + r.value("result", std::string("cancelled"))};
}

}  // namespace bb
