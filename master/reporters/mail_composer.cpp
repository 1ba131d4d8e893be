#include "master/reporters/mail_composer.hpp"

#include <map>
#include <random>
#include <set>

#include "master/db/database.hpp"
#include "master/status/views.hpp"
#include "master/reporters/mail_address.hpp"
#include "master/reporters/mail_template.hpp"
#include "master/secrets/secret_store.hpp"

namespace bb {

namespace {

std::string baseUrl(const MasterSection& m) {
  std::string u = m.url;
  while (!u.empty() && u.back() == '/') u.pop_back();
  return u;
}

// Recipients in order, one per bare address.
struct Recipients {
  std::vector<std::string> header, envelope;
  std::set<std::string> seen;
  void add(const std::string& text) {
    auto addr = mailAddress(text);
    if (!addr || !seen.insert(*addr).second) return;
    header.push_back(text);
    envelope.push_back(*addr);
  }
};

struct Context {
  std::map<std::string, std::string> values;
  std::vector<db::ChangeRecord> changes;
  std::vector<MailAttachment> attachments;
  std::string logNotes;
  std::size_t mailBudget = 0;
};

void fillBuildset(db::Database& db, const db::BuildsetRecord& bs, Context& c) {
  const auto& ss = bs.sourcestamp;
  c.values["reason"] = bs.reason;
  c.values["scheduler"] = bs.scheduler;
  c.values["buildset_id"] = std::to_string(bs.id);
  c.values["branch"] = ss.branch;
  c.values["revision"] = ss.revision;
  c.values["repository"] = ss.repository;
  c.values["project"] = ss.project;
  std::string stamp = ss.repository.empty() ? "" : ss.repository + " ";
  stamp += ss.branch.empty() ? "(default branch)" : ss.branch;
  stamp += "@" + (ss.revision.empty() ? std::string("latest") : ss.revision);
  c.values["sourcestamp"] = stamp;
  std::string changes, authors;
  std::set<std::string> seenAuthors;
  for (auto id : ss.changeIds) {
    auto ch = db.getChange(id);
    if (!ch) continue;
    changes += "  Change " + std::to_string(ch->id) + ": " + ch->revision + " by " + ch->author +
               (ch->branch.empty() ? "" : " on " + ch->branch) + "\n";
    std::string comments = ch->comments;
    std::size_t start = 0;
    while (start < comments.size()) {
      auto end = comments.find('\n', start);
      if (end == std::string::npos) end = comments.size();
      changes += "    " + comments.substr(start, end - start) + "\n";
      start = end + 1;
    }
    if (seenAuthors.insert(ch->author).second) authors += (authors.empty() ? "" : ", ") + ch->author;
    c.changes.push_back(std::move(*ch));
  }
  c.values["changes"] = changes.empty() ? "" : "Changes:\n" + changes + "\n";
  c.values["blamelist"] = authors.empty() ? "(no changes)" : authors;
}

// Reads up to `cap` bytes of a log: its end, where a failure shows.
std::string readCapped(db::Database& db, const db::LogRecord& l, std::size_t cap) {
  std::string out;
  const std::int64_t from = l.bytes > static_cast<std::int64_t>(cap) ? l.bytes - static_cast<std::int64_t>(cap) : 0;
  db.readLogFrom(l.id, from, [&](int, std::string_view data) {
    const std::size_t room = cap - out.size();
    out.append(data.substr(0, room));
    return out.size() < cap;
  });
  return out;
}

// Steps of `b` as text lines, and its logs attached within the caps.
std::string stepsAndLogs(db::Database& db, const MailOptions& o, const db::BuildRecord& b,
                         const std::string& prefix, Context& c) {
  std::string steps;
  for (const auto& s : db.stepsForBuild(b.id)) {
    steps += "  " + std::to_string(s.number) + " " + s.name + ": " +
             (s.finished ? std::string(toString(s.result)) : "not finished") +
             (s.text.empty() ? "" : " (" + s.text + ")") + "\n";
    if (!o.attachLogs) continue;
    for (const auto& l : db.logsForStep(s.id)) {
      const std::string name = prefix + std::to_string(s.number) + "-" + s.name + "-" + l.name + ".log";
      const std::size_t cap = std::min(o.maxLogBytes, c.mailBudget);
      const auto total = static_cast<std::size_t>(l.bytes);
      if (cap == 0 && total > 0) {
        c.logNotes += "  " + name + ": not attached (" + std::to_string(total) +
                      " bytes; the mail's attachment limit of " + std::to_string(o.maxMailBytes) +
                      " bytes is used up)\n";
        continue;
      }
      std::string content = readCapped(db, l, cap);
      c.mailBudget -= std::min(c.mailBudget, content.size());
      if (content.size() < total) {
        c.logNotes += "  " + name + ": cut to its last " + std::to_string(content.size()) + " of " +
                      std::to_string(total) + " bytes\n";
        content = "[... the first " + std::to_string(total - content.size()) +
                  " bytes of this log were cut; the whole log is on the build's page]\n" + content;
      } else {
        c.logNotes += "  " + name + ": " + std::to_string(total) + " bytes\n";
      }
      c.attachments.push_back(MailAttachment{name, std::move(content)});
    }
  }
  return steps;
}

ComposedMail finish(const MailOptions& o, const MasterConfig& cfg, const SecretStore& secrets,
                    Context& c, Recipients& rcpt, const std::string& defaultSubject, std::int64_t now,
                    std::string what) {
  if (o.blamelist)
    for (const auto& ch : c.changes) rcpt.add(ch.author);
  c.values["master"] = cfg.master.name;
  c.values["master_url"] = cfg.master.url;
  c.values["logs"] = c.logNotes.empty() ? "" : "Logs attached:\n" + c.logNotes + "\n";
  ComposedMail m;
  m.what = std::move(what);
  m.envelopeTo = rcpt.envelope;
  m.message.from = o.from;
  m.message.to = rcpt.header;
  m.message.subject = secrets.mask(renderMailTemplate(o.subject.value_or(defaultSubject), c.values));
  m.message.body = secrets.mask(renderMailTemplate(o.body.value_or(kDefaultBody), c.values));
  for (auto& a : c.attachments) a.content = secrets.mask(a.content);
  m.message.attachments = std::move(c.attachments);
  m.message.date = now;
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  const auto fromAddr = mailAddress(o.from).value_or("buildmaster@localhost");
  m.message.messageId = "bb." + std::to_string(now) + "." + std::to_string(rng() % 1000000000000ULL) +
                        fromAddr.substr(fromAddr.find('@'));
  return m;
}

}  // namespace

std::string buildUrl(const MasterSection& m, const std::string& builder, int number) {
  return baseUrl(m) + "/builders/" + builder + "/builds/" + std::to_string(number);
}

std::string buildsetUrl(const MasterSection& m, std::int64_t id) {
  return baseUrl(m) + "/buildsets/" + std::to_string(id);
}

std::optional<Result> previousResult(db::Database& db, const db::BuildRecord& b) {
  for (const auto& prev : db.lastBuilds(b.builder, 50))
    if (prev.number < b.number && prev.finished && prev.result != Result::Retry && !isTryBuild(prev))
      return prev.result;
  return std::nullopt;
}

std::optional<ComposedMail> composeBuildMail(db::Database& db, const MailOptions& o,
                                             const MasterConfig& cfg, const SecretStore& secrets,
                                             const db::BuildRecord& b, std::int64_t now) {
  Context c;
  c.mailBudget = o.maxMailBytes;
  if (auto req = b.requestId ? db.getRequest(b.requestId) : std::nullopt)
    if (auto bs = db.getBuildset(req->buildsetId)) fillBuildset(db, *bs, c);
  c.values["title"] = "Build " + b.builder + " #" + std::to_string(b.number);
  c.values["url"] = buildUrl(cfg.master, b.builder, b.number);
  c.values["result"] = std::string(toString(b.result));
  c.values["builder"] = b.builder;
  c.values["number"] = std::to_string(b.number);
  c.values["slave"] = b.slave;
  c.values["text"] = b.text;
  c.values["builds"] = "Steps:\n" + stepsAndLogs(db, o, b, "", c) + "\n";
  Recipients rcpt;
  for (const auto& t : o.to) rcpt.add(t);
  if (auto it = o.builderRecipients.find(b.builder); it != o.builderRecipients.end())
    for (const auto& t : it->second) rcpt.add(t);
  auto m = finish(o, cfg, secrets, c, rcpt, kDefaultBuildSubject, now,
                  "mail for " + b.builder + " #" + std::to_string(b.number));
  if (m.envelopeTo.empty()) return std::nullopt;
  return m;
}

std::optional<ComposedMail> composeBuildsetMail(db::Database& db, const MailOptions& o,
                                                const MasterConfig& cfg, const SecretStore& secrets,
                                                const db::BuildsetRecord& bs,
                                                const std::vector<db::BuildRecord>& builds,
                                                std::int64_t now) {
  Context c;
  c.mailBudget = o.maxMailBytes;
  fillBuildset(db, bs, c);
  c.values["title"] = "BuildSet " + std::to_string(bs.id);
  c.values["url"] = buildsetUrl(cfg.master, bs.id);
  c.values["result"] = std::string(toString(bs.result));
  Recipients rcpt;
  for (const auto& t : o.to) rcpt.add(t);
  std::string section, names;
  for (const auto& b : builds) {
    section += b.builder + " #" + std::to_string(b.number) + ": " + std::string(toString(b.result)) +
               (b.text.empty() ? "" : " (" + b.text + ")") + "\n  " +
               buildUrl(cfg.master, b.builder, b.number) + "\n" +
               stepsAndLogs(db, o, b, b.builder + "-" + std::to_string(b.number) + "-", c) + "\n";
    names += (names.empty() ? "" : ", ") + b.builder;
    if (auto it = o.builderRecipients.find(b.builder); it != o.builderRecipients.end())
      for (const auto& t : it->second) rcpt.add(t);
  }
  c.values["builder"] = names;
  c.values["builds"] = "Builds:\n" + section;
  auto m = finish(o, cfg, secrets, c, rcpt, kDefaultBuildsetSubject, now,
                  "mail for BuildSet " + std::to_string(bs.id));
  if (m.envelopeTo.empty()) return std::nullopt;
  return m;
}

}  // namespace bb
