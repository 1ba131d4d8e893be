#include "master/reporters/mail_config.hpp"

#include <memory>

#include "config/yaml_util.hpp"
#include "master/reporters/mail_address.hpp"
#include "master/reporters/mail_template.hpp"

namespace bb {

namespace {

constexpr std::string_view kModeNames[] = {"all",     "failing",  "passing",  "problem",
                                           "change",  "warnings", "exception"};

std::string modeList() {
  std::string out;
  for (auto n : kModeNames) out += (out.empty() ? "" : "|") + std::string(n);
  return out;
}

void readModes(cfg::MapReader& r, MailOptions& o, bool& ok) {
  YAML::Node node = r.value("mode");
  if (!node.IsDefined()) return;
  std::vector<std::pair<std::string, YAML::Mark>> names;
  if (node.IsScalar()) {
    names.emplace_back(node.Scalar(), node.Mark());
  } else if (node.IsSequence() && node.size() > 0) {
    for (const auto& n : node) {
      if (!n.IsScalar()) {
        r.error(n.Mark(), "mode: each item must be one of " + modeList() + ", got " + cfg::describe(n));
        ok = false;
        continue;
      }
      names.emplace_back(n.Scalar(), n.Mark());
    }
  } else {
    r.error(r.markOf("mode"), "mode must be one of " + modeList() + " or a non-empty list of them, got " +
                                  cfg::describe(node));
    ok = false;
    return;
  }
  o.modes.clear();
  for (const auto& [name, mark] : names) {
    if (auto m = mailModeFromString(name)) {
      o.modes.insert(*m);
    } else {
      r.error(mark, "mode: unknown mode '" + name + "'; allowed: " + modeList());
      ok = false;
    }
  }
}

void readAddresses(cfg::MapReader& r, std::string_view key, std::vector<std::string>& out, bool& ok) {
  auto list = r.stringList(key);
  if (!list) {
    if (r.has(key)) ok = false;
    return;
  }
  YAML::Node node = r.value(key);
  for (std::size_t i = 0; i < list->size(); ++i) {
    if (!mailAddress((*list)[i])) {
      r.error(node[i].Mark(), std::string(key) + ": '" + (*list)[i] +
                                  "' is not a mail address (user@host or \"Name <user@host>\")");
      ok = false;
    }
  }
  out = *list;
}

void readNames(cfg::MapReader& r, cfg::MasterParse& p, std::string_view key, cfg::RefKind kind,
               std::vector<std::string>& out, bool& ok) {
  auto list = r.stringList(key);
  if (!list) {
    if (r.has(key)) ok = false;
    return;
  }
  YAML::Node node = r.value(key);
  for (std::size_t i = 0; i < list->size(); ++i) p.refer(kind, (*list)[i], node[i].Mark(), r.what());
  out = *list;
}

void readTemplate(cfg::MapReader& r, std::string_view key, std::optional<std::string>& out, bool& ok) {
  auto text = r.string(key);
  if (!text) {
    if (r.has(key)) ok = false;
    return;
  }
  if (auto bad = checkMailTemplate(*text)) {
    r.error(r.markOf(key), std::string(key) + ": " + *bad);
    ok = false;
    return;
  }
  out = *text;
}

}  // namespace

std::string_view toString(MailMode m) { return kModeNames[static_cast<int>(m)]; }

std::optional<MailMode> mailModeFromString(std::string_view s) {
  for (int i = 0; i < static_cast<int>(std::size(kModeNames)); ++i)
    if (kModeNames[i] == s) return static_cast<MailMode>(i);
  return std::nullopt;
}

bool parseMailReporter(cfg::MapReader& r, cfg::MasterParse& p, ReporterEntry& e) {
  r.allowKeys({"name", "type", "smtp", "starttls", "tls_verify", "login", "from", "to", "builders",
               "schedulers", "buildsets", "mode", "builder_recipients", "blamelist", "logs",
               "max_log_bytes", "max_mail_bytes", "subject", "body", "queue", "retry", "timeout"});
  auto o = std::make_shared<MailOptions>();
  bool ok = true;
  if (auto url = r.string("smtp", true)) {
    const bool smtps = url->rfind("smtps://", 0) == 0;
    const std::string rest = url->substr(url->find("://") == std::string::npos ? 0 : url->find("://") + 3);
    if ((url->rfind("smtp://", 0) != 0 && !smtps) || rest.empty() || rest.front() == ':' ||
        rest.find_first_of("/ ?#@") != std::string::npos) {
      r.error(r.markOf("smtp"), "smtp must be smtp://HOST[:PORT] or smtps://HOST[:PORT], got '" + *url + "'");
      ok = false;
    }
    o->smtpUrl = *url;
    if (auto st = r.boolean("starttls")) {
      o->starttls = *st;
      if (*st && smtps) {
        r.error(r.markOf("starttls"), "starttls applies to smtp:// only; smtps:// is TLS from the start");
        ok = false;
      }
    }
  } else {
    ok = false;
  }
  if (auto v = r.boolean("tls_verify")) o->tlsVerify = *v;
  if (r.has("login")) {
    cfg::MapReader login(r.value("login"), r.what() + ", login", p.sink, r.markOf("login"));
    if (!login.isMap()) {
      ok = false;
    } else {
      login.allowKeys({"user", "password"});
      auto user = login.string("user", true);
      auto pw = login.string("password", true);
      if (pw) cfg::checkSecretInterpolation(login, p, login.markOf("password"), "password", *pw);
      if (!user || !pw) ok = false;
      else {
        o->user = *user;
        o->password = *pw;
      }
    }
  }
  if (auto from = r.string("from", true)) {
    if (!mailAddress(*from)) {
      r.error(r.markOf("from"), "from: '" + *from + "' is not a mail address (user@host or \"Name <user@host>\")");
      ok = false;
    }
    o->from = *from;
  } else {
    ok = false;
  }
  readAddresses(r, "to", o->to, ok);
  readNames(r, p, "builders", cfg::RefKind::Builder, o->builders, ok);
  readNames(r, p, "schedulers", cfg::RefKind::Scheduler, o->schedulers, ok);
  if (auto b = r.boolean("buildsets")) o->buildsets = *b;
  readModes(r, *o, ok);
  if (r.has("builder_recipients")) {
    cfg::MapReader br(r.value("builder_recipients"), r.what() + ", builder_recipients", p.sink,
                      r.markOf("builder_recipients"));
    if (!br.isMap()) {
      ok = false;
    } else {
      br.allowKeys(br.keys());
      for (const auto& builder : br.keys()) {
        p.refer(cfg::RefKind::Builder, builder, br.keyMarkOf(builder), br.what());
        readAddresses(br, builder, o->builderRecipients[builder], ok);
      }
    }
  }
  if (auto b = r.boolean("blamelist")) o->blamelist = *b;
  if (auto b = r.boolean("logs")) o->attachLogs = *b;
  if (auto n = r.integer("max_log_bytes", 0, 100 << 20)) o->maxLogBytes = static_cast<std::size_t>(*n);
  if (auto n = r.integer("max_mail_bytes", 1024, 100 << 20)) o->maxMailBytes = static_cast<std::size_t>(*n);
  readTemplate(r, "subject", o->subject, ok);
  readTemplate(r, "body", o->body, ok);
  if (o->subject && o->subject->find('\n') != std::string::npos) {
    r.error(r.markOf("subject"), "subject must be one line");
    ok = false;
  }
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
        retry.error(retry.markOf("max"), "max (" + std::to_string(o->retryMax.count()) +
                                             " s) must not be less than initial (" +
                                             std::to_string(o->retryInitial.count()) + " s)");
        ok = false;
      }
    }
  }
  if (auto n = r.integer("timeout", 1, 3600)) o->timeout = std::chrono::seconds(*n);
  if (o->to.empty() && o->builderRecipients.empty() && !o->blamelist) {
    r.error(r.mark(), r.what() + ": no recipients; give to: [ADDRESS...], builder_recipients or blamelist: true");
    ok = false;
  }
  e.options = std::move(o);
  return ok;
}

}  // namespace bb
