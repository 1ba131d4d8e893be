#include "master/reporters/irc_reporter.hpp"

#include <spdlog/spdlog.h>

#include "common/interpolate.hpp"
#include "master/db/database.hpp"
#include "master/events/event_bus.hpp"
#include "master/reporters/irc_connection.hpp"
#include "master/reporters/irc_line.hpp"
#include "master/reporters/mail_composer.hpp"  // buildUrl, previousResult
#include "master/secrets/secret_store.hpp"

namespace bb {

namespace {

bool addressedTo(const std::string& text, const std::string& nick, std::string& command) {
  if (text.size() <= nick.size() || !ircNickMatches(nick, text.substr(0, nick.size()))) return false;
  const char sep = text[nick.size()];
  if (sep != ':' && sep != ',') return false;
  command = text.substr(nick.size() + 1);
  return true;
}

}  // namespace

void IrcReporter::declareType(ReporterType& t) { t.config.parse = parseIrcReporter; }

IrcReporter::IrcReporter(const ReporterEntry& cfg, ReporterServices& services)
    : cfg_(cfg), opts_(cfg_.as<IrcOptions>()), services_(services), commands_(opts_, services_, cfg_.name) {}

IrcReporter::~IrcReporter() { stop(); }

void IrcReporter::start() {
  if (!services_.io || !services_.rpc) throw std::runtime_error("the IRC reporter needs the master's loop");
  IrcConnectionSettings s;
  s.name = "irc reporter '" + cfg_.name + "'";
  s.host = opts_.host;
  s.port = opts_.port;
  s.tls = opts_.tls;
  s.tlsVerify = opts_.tlsVerify;
  s.nick = opts_.nick;
  s.realname = opts_.realname;
  // The config loader has checked that every secret named here exists.
  auto secret = [&](const std::string& v) {
    return v.empty() ? v : interpolate(v, Properties{}, &services_.secrets->values());
  };
  s.serverPassword = secret(opts_.serverPassword);
  s.nickservPassword = secret(opts_.nickservPassword);
  s.saslUser = opts_.saslUser;
  s.saslPassword = secret(opts_.saslPassword);
  for (const auto& c : opts_.channels) s.channels.emplace_back(c.name, c.key);
  s.rate = opts_.rate;
  s.burst = opts_.burst;
  s.maxQueued = opts_.maxQueued;
  s.retryInitial = opts_.retryInitial;
  s.retryMax = opts_.retryMax;
  IrcConnection::Handlers h;
  h.message = [this](const std::string& nick, const std::string& target, const std::string& text) {
    onMessage(nick, target, text);
  };
  conn_ = std::make_unique<IrcConnection>(*services_.io, std::move(s), std::move(h));
  conn_->start();

  Subscriber sub;
  sub.name = "irc reporter '" + cfg_.name + "'";
  sub.filter.types = {EventType::BuildStarted, EventType::BuildFinished};
  services_.shareWithOtherMasters(sub.filter);
  sub.deliver = [this](const Event& e) {
    if (services_.reportsHere(cfg_.type + ":" + cfg_.name, e)) onEvent(e);
    return true;
  };
  sub.dropped = [name = cfg_.name](const std::string& why) {
    spdlog::error("irc reporter '{}': no longer hears of builds: {}", name, why);
  };
  subscription_ = services_.events.subscribe(std::move(sub)).id;
}

void IrcReporter::stop() {
  if (subscription_) services_.events.unsubscribe(subscription_);
  subscription_ = 0;
  if (conn_) conn_->stop();
}

void IrcReporter::finish(std::chrono::milliseconds) { stop(); }

Json IrcReporter::describe() const {
  Json j{{"name", cfg_.name}, {"type", cfg_.type}, {"commands", commandsRun_}, {"event_errors", eventErrors_}};
  if (conn_) j.update(conn_->describe());
  return j;
}

// A throw from here (a bug, or the database failing) reaches the
// connection's handler, which closes and reconnects (irc_connection.hpp).
void IrcReporter::onMessage(const std::string& nick, const std::string& target, const std::string& text) {
  // CTCP (VERSION, ACTION, ...) is not a command; answering it could
  // start a loop with another bot.
  if (!text.empty() && text[0] == '\x01') return;
  const std::string me = conn_->nick();
  const bool isPrivate = !target.empty() && target[0] != '#' && target[0] != '&';
  std::string command;
  if (isPrivate) command = text;
  else if (!addressedTo(text, me, command)) return;
  ++commandsRun_;
  const std::string replyTo = isPrivate ? nick : target;
  for (const auto& line : commands_.run(nick, isPrivate ? "" : target, command))
    conn_->say(replyTo, isPrivate ? line : nick + ": " + line);
}

void IrcReporter::announce(const db::BuildRecord& b, const std::set<IrcEvent>& events, const std::string& text) {
  for (const auto& [channel, wanted] : commands_.notifications()) {
    for (auto ev : events)
      if (wanted.count(ev)) {
        conn_->say(channel, text);
        break;
      }
  }
  (void)b;
}

void IrcReporter::onEvent(const Event& e) {
  try {
    auto b = services_.db.getBuild(e.buildId);
    if (!b || !conn_) return;
    if (e.type == EventType::BuildStarted) {
      announce(*b, {IrcEvent::Started}, "build started: " + commands_.describeBuild(*b));
      return;
    }
    if (e.type != EventType::BuildFinished || !b->finished) return;
    std::set<IrcEvent> evs{IrcEvent::Finished};
    const auto prev = previousResult(services_.db, *b);
    if (b->result == Result::Success) evs.insert(IrcEvent::Success);
    if (b->result == Result::Failure) evs.insert(IrcEvent::Failure);
    if (b->result == Result::Warnings) evs.insert(IrcEvent::Warnings);
    if (b->result == Result::Exception) evs.insert(IrcEvent::Exception);
    if (b->result == Result::Failure && (!prev || *prev == Result::Success)) evs.insert(IrcEvent::Problem);
    if (prev && *prev != b->result) evs.insert(IrcEvent::Change);
    const std::string text = "build finished: " + commands_.describeBuild(*b);
    announce(*b, evs, text);
    for (const auto& who : commands_.takeWatchers(b->id)) conn_->say(who, "watched " + text);
  } catch (const std::exception& ex) {
    ++eventErrors_;
    spdlog::error("irc reporter '{}': cannot announce {} of build {}: {}", cfg_.name, toString(e.type), e.buildId,
                  ex.what());
  }
}

}  // namespace bb
