#include "master/reporters/irc_config.hpp"

#include <cctype>
#include <memory>

#include "config/yaml_util.hpp"

namespace bb {

namespace {

constexpr std::string_view kEventNames[] = {"started", "finished", "success",  "failure",
                                            "warnings", "exception", "problem", "change"};

bool validChannel(const std::string& c) {
  return c.size() >= 2 && c.size() <= 50 && (c[0] == '#' || c[0] == '&') &&
         c.find_first_of(" ,\a\r\n") == std::string::npos;
}

bool validNick(const std::string& n) {
  if (n.empty() || n.size() > 30 || (n[0] >= '0' && n[0] <= '9') || n[0] == '-') return false;
  for (char c : n)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || std::string_view("-_[]\\^{}|`").find(c) != std::string_view::npos))
      return false;
  return true;
}

void readEvents(cfg::MapReader& r, std::string_view key, std::set<IrcEvent>& out, bool& ok) {
  auto list = r.stringList(key);
  if (!list) {
    if (r.has(key)) ok = false;
    return;
  }
  out.clear();
  YAML::Node node = r.value(key);
  for (std::size_t i = 0; i < list->size(); ++i) {
    if (auto ev = ircEventFromString((*list)[i])) out.insert(*ev);
    else {
      r.error(node[i].Mark(), std::string(key) + ": unknown event '" + (*list)[i] + "'; allowed: " + ircEventList());
      ok = false;
    }
  }
}

void readSecret(cfg::MapReader& r, cfg::MasterParse& p, std::string_view key, std::string& out, bool required,
                bool& ok) {
  auto v = r.string(key, required);
  if (!v) {
    if (required || r.has(key)) ok = false;
    return;
  }
  cfg::checkSecretInterpolation(r, p, r.markOf(key), std::string(key), *v);
  out = *v;
}

}  // namespace

std::string_view toString(IrcEvent e) { return kEventNames[static_cast<int>(e)]; }

std::optional<IrcEvent> ircEventFromString(std::string_view s) {
  for (int i = 0; i < static_cast<int>(std::size(kEventNames)); ++i)
    if (kEventNames[i] == s) return static_cast<IrcEvent>(i);
  return std::nullopt;
}

std::string ircEventList() {
  std::string out;
  for (auto n : kEventNames) out += (out.empty() ? "" : ", ") + std::string(n);
  return out;
}

bool parseIrcReporter(cfg::MapReader& r, cfg::MasterParse& p, ReporterEntry& e) {
  r.allowKeys({"name", "type", "host", "port", "tls", "tls_verify", "nick", "realname", "password",
               "nickserv_password", "sasl", "channels", "notify", "authorized", "rate", "burst", "queue",
               "retry"});
  auto o = std::make_shared<IrcOptions>();
  bool ok = true;
  if (auto h = r.string("host", true)) {
    if (h->empty() || h->find_first_of(" /:@") != std::string::npos) {
      r.error(r.markOf("host"), "host must be a host name or IPv4 address, got '" + *h + "'");
      ok = false;
    }
    o->host = *h;
  } else {
    ok = false;
  }
  if (auto t = r.boolean("tls")) o->tls = *t;
  o->port = o->tls ? 6697 : 6667;
  if (auto n = r.integer("port", 1, 65535)) o->port = static_cast<int>(*n);
  if (auto v = r.boolean("tls_verify")) o->tlsVerify = *v;
  if (auto n = r.string("nick", true)) {
    if (!validNick(*n)) {
      r.error(r.markOf("nick"), "nick '" + *n + "' is not an IRC nick (letters, digits, -_[]\\^{}|`, not "
                                "starting with a digit or '-', at most 30)");
      ok = false;
    }
    o->nick = *n;
  } else {
    ok = false;
  }
  if (auto n = r.string("realname")) o->realname = *n;
  readSecret(r, p, "password", o->serverPassword, false, ok);
  readSecret(r, p, "nickserv_password", o->nickservPassword, false, ok);
  if (r.has("sasl")) {
    cfg::MapReader s(r.value("sasl"), r.what() + ", sasl", p.sink, r.markOf("sasl"));
    if (!s.isMap()) {
      ok = false;
    } else {
      s.allowKeys({"user", "password"});
      if (auto u = s.string("user", true)) o->saslUser = *u;
      else ok = false;
      readSecret(s, p, "password", o->saslPassword, true, ok);
    }
  }
  std::set<IrcEvent> defaults{IrcEvent::Finished};
  readEvents(r, "notify", defaults, ok);
  YAML::Node chans = r.value("channels");
  if (!chans.IsDefined() || !chans.IsSequence() || chans.size() == 0) {
    r.error(chans.IsDefined() ? r.markOf("channels") : r.mark(),
            r.what() + ": channels must be a non-empty list of \"#name\" or {name, key, notify}");
    ok = false;
  } else {
    for (const auto& c : chans) {
      IrcChannel ch;
      ch.notify = defaults;
      if (c.IsScalar()) {
        ch.name = c.Scalar();
      } else {
        cfg::MapReader m(c, r.what() + ", channels", p.sink, c.Mark());
        if (!m.isMap()) {
          ok = false;
          continue;
        }
        m.allowKeys({"name", "key", "notify"});
        if (auto n = m.string("name", true)) ch.name = *n;
        else ok = false;
        if (auto k = m.string("key")) ch.key = *k;
        readEvents(m, "notify", ch.notify, ok);
      }
      if (!validChannel(ch.name)) {
        r.error(c.Mark(), "channels: '" + ch.name + "' is not a channel name (#name or &name, no spaces or commas)");
        ok = false;
      }
      o->channels.push_back(std::move(ch));
    }
  }
  if (auto a = r.stringList("authorized")) o->authorized = *a;
  else if (r.has("authorized")) ok = false;
  if (r.has("rate")) {
    YAML::Node n = r.value("rate");
    double v = 0;
    try {
      v = n.as<double>();
    } catch (const std::exception&) {
      v = -1;
    }
    if (!(v >= 0.1 && v <= 100)) {
      r.error(r.markOf("rate"), "rate must be a number of lines a second between 0.1 and 100, got " +
                                    cfg::describe(n));
      ok = false;
    }
    o->rate = v;
  }
  if (auto n = r.integer("burst", 1, 1000)) o->burst = static_cast<int>(*n);
  if (auto n = r.integer("queue", 1, 100000)) o->maxQueued = static_cast<std::size_t>(*n);
  if (r.has("retry")) {
    cfg::MapReader retry(r.value("retry"), r.what() + ", retry", p.sink, r.markOf("retry"));
    if (!retry.isMap()) {
      ok = false;
    } else {
      retry.allowKeys({"initial", "max"});
      if (auto n = retry.integer("initial", 1, 3600)) o->retryInitial = std::chrono::seconds(*n);
      if (auto n = retry.integer("max", 1, 86400)) o->retryMax = std::chrono::seconds(*n);
      if (o->retryMax < o->retryInitial) {
        retry.error(retry.markOf("max"), "max must not be less than initial");
        ok = false;
      }
    }
  }
  e.options = std::move(o);
  return ok;
}

}  // namespace bb
