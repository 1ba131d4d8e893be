#include "common/cron.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <optional>
#include <sstream>
#include <vector>

#include <cctz/civil_time.h>
#include <cctz/time_zone.h>

namespace bb {

namespace {

using Seconds = std::int64_t;  // since the epoch

struct FieldSpec {
  const char* name;
  int min;
  int max;
  const char* const* names;  // accepted names, or null
  int namesCount;
  int namesBase;  // the value names[0] stands for
};

const char* const kMonthNames[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                   "jul", "aug", "sep", "oct", "nov", "dec"};
const char* const kDayNames[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

const FieldSpec kFields[5] = {
    {"minute", 0, 59, nullptr, 0, 0},
    {"hour", 0, 23, nullptr, 0, 0},
    {"day-of-month", 1, 31, nullptr, 0, 0},
    {"month", 1, 12, kMonthNames, 12, 1},
    {"day-of-week", 0, 7, kDayNames, 7, 0},
};

[[noreturn]] void fieldError(const FieldSpec& f, const std::string& text, const std::string& why) {
  throw CronError(std::string("cron ") + f.name + " field '" + text + "': " + why);
}

// A number or (for month and day-of-week) a three-letter name.
int parseValue(const FieldSpec& f, const std::string& field, const std::string& s) {
  if (s.empty()) fieldError(f, field, "a value is missing");
  if (std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); })) {
    const int v = s.size() > 4 ? f.max + 1 : std::stoi(s);
    if (v < f.min || v > f.max)
      fieldError(f, field, s + " is out of range " + std::to_string(f.min) + "-" + std::to_string(f.max));
    return v;
  }
  std::string lower;
  for (unsigned char c : s) lower += static_cast<char>(std::tolower(c));
  for (int i = 0; i < f.namesCount; ++i)
    if (lower == f.names[i]) return f.namesBase + i;
  if (f.names)
    fieldError(f, field, "'" + s + "' is neither a number nor a name (" + f.names[0] + ".." +
                             f.names[f.namesCount - 1] + ")");
  fieldError(f, field, "'" + s + "' is not a number");
}

// Parses one field into `bits` (bit v set when value v matches).
template <std::size_t N>
void parseField(const FieldSpec& f, const std::string& field, std::bitset<N>& bits) {
  std::size_t start = 0;
  for (;;) {
    const std::size_t comma = field.find(',', start);
    const std::string item =
        field.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (item.empty()) fieldError(f, field, "empty list item");
    std::string range = item;
    int step = 1;
    if (const auto slash = item.find('/'); slash != std::string::npos) {
      range = item.substr(0, slash);
      const std::string s = item.substr(slash + 1);
      if (s.empty() || s.size() > 4 ||
          !std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); }))
        fieldError(f, field, "step '" + s + "' must be a positive number");
      step = std::stoi(s);
      if (step == 0) fieldError(f, field, "step must not be 0");
    }
    int lo = f.min, hi = f.max;
    if (range != "*") {
      if (const auto dash = range.find('-'); dash != std::string::npos) {
        lo = parseValue(f, field, range.substr(0, dash));
        hi = parseValue(f, field, range.substr(dash + 1));
        if (lo > hi)
          fieldError(f, field, "range " + range + " is backwards (write the smaller value first)");
      } else {
        lo = parseValue(f, field, range);
        if (item.find('/') == std::string::npos) hi = lo;  // "5/15" means 5-max/15
      }
    }
    for (int v = lo; v <= hi; v += step) bits.set(static_cast<std::size_t>(v));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
}

int daysInMonth(int y, int m) {
  using namespace std::chrono;
  return static_cast<int>(unsigned((year(y) / month(m) / last).day()));
}

// --- local time -----------------------------------------------------------
// Local time comes from CCTZ (libcctz), which reads the system tz database
// ($TZDIR or /usr/share/zoneinfo) and keeps loaded zones in a cache behind
// its own lock. Nothing here touches the process's TZ, so next() is safe
// from any thread (the master's git workers fork while schedulers run).

bool isUtc(const std::string& tz) { return tz == "UTC" || tz == "Etc/UTC"; }

std::string tzDir() {
  const char* dir = std::getenv("TZDIR");
  return dir && *dir ? dir : "/usr/share/zoneinfo";
}

cctz::time_zone loadZone(const std::string& tz) {
  if (isUtc(tz)) return cctz::utc_time_zone();
  checkTimeZone(tz);
  cctz::time_zone zone;
  // checkTimeZone() loaded it once already; this is a cache hit.
  if (!cctz::load_time_zone(tz, &zone)) throw CronError("cannot load time zone '" + tz + "'");
  return zone;
}

cctz::civil_second toCivil(Seconds localSecs) {
  return cctz::civil_second(1970, 1, 1, 0, 0, 0) + localSecs;
}
Seconds fromCivil(const cctz::civil_second& cs) {
  return cs - cctz::civil_second(1970, 1, 1, 0, 0, 0);
}
Seconds toSeconds(const cctz::time_point<cctz::seconds>& tp) {
  return tp.time_since_epoch().count();
}

}  // namespace

void checkTimeZone(const std::string& tz) {
  if (isUtc(tz)) return;
  const bool validChars = !tz.empty() && std::all_of(tz.begin(), tz.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '/' || c == '_' || c == '-' || c == '+';
  });
  if (!validChars || tz[0] == '/' || tz.find("..") != std::string::npos)
    throw CronError("time zone '" + tz + "' is not a tz database name like 'Europe/Paris' or 'UTC'");
  const std::string path = tzDir() + "/" + tz;
  struct stat st {};
  std::string problem;
  if (::stat(path.c_str(), &st) != 0)
    problem = errno == ENOENT ? "does not exist" : std::strerror(errno);
  else if (!S_ISREG(st.st_mode))
    problem = "is not a zone file";
  if (!problem.empty())
    throw CronError("unknown time zone '" + tz + "' (" + path + " " + problem +
                    "); use a tz database name like 'Europe/Paris' or 'UTC'");
  cctz::time_zone zone;
  if (!cctz::load_time_zone(tz, &zone))
    throw CronError("unknown time zone '" + tz + "' (" + path +
                    " is not a tz database file); use a name like 'Europe/Paris' or 'UTC'");
}

CronSchedule CronSchedule::parse(const std::string& expr) {
  std::vector<std::string> fields;
  std::istringstream in(expr);
  for (std::string f; in >> f;) fields.push_back(f);
  if (fields.size() != 5)
    throw CronError("cron expression '" + expr + "' must have 5 fields (minute hour day-of-month "
                    "month day-of-week), e.g. \"0 3 * * *\"; got " + std::to_string(fields.size()));
  CronSchedule s;
  s.expr_ = expr;
  parseField(kFields[0], fields[0], s.minutes_);
  parseField(kFields[1], fields[1], s.hours_);
  parseField(kFields[2], fields[2], s.days_);
  parseField(kFields[3], fields[3], s.months_);
  std::bitset<8> dow;
  parseField(kFields[4], fields[4], dow);
  for (int d = 0; d < 7; ++d) s.weekdays_[d] = dow[d];
  if (dow[7]) s.weekdays_[0] = true;  // 7 is Sunday too
  s.wildcardTime_ = fields[0][0] == '*' || fields[1][0] == '*';
  s.domRestricted_ = fields[2][0] != '*';
  s.dowRestricted_ = fields[4][0] != '*';
  if (!(s.domRestricted_ && s.dowRestricted_)) {
    // Days must match day-of-month: some listed month must have a listed day.
    bool possible = false;
    for (int m = 1; m <= 12; ++m)
      for (int d = 1; d <= (m == 2 ? 29 : daysInMonth(2001, m)); ++d)
        if (s.months_[m] && s.days_[d]) possible = true;
    if (!possible)
      throw CronError("cron expression '" + expr + "' never matches: no listed month has day " +
                      fields[2]);
  }
  return s;
}

bool CronSchedule::dayMatches(int dayOfMonth, int weekday) const {
  // Classic cron: if both are restricted, either may match; otherwise both
  // must (an unrestricted one matches every day anyway).
  if (domRestricted_ && dowRestricted_) return days_[dayOfMonth] || weekdays_[weekday];
  return days_[dayOfMonth] && weekdays_[weekday];
}

void CronSchedule::forEachMatch(std::int64_t fromLocal,
                                const std::function<bool(std::int64_t)>& visit) const {
  using namespace std::chrono;
  const sys_days startDay = floor<days>(sys_seconds(seconds(fromLocal)));
  const Seconds secOfDay = fromLocal - duration_cast<seconds>(startDay.time_since_epoch()).count();
  const int startHour = static_cast<int>(secOfDay / 3600);
  const int startMinute = static_cast<int>((secOfDay % 3600 + 59) / 60);  // round up
  // 400 years is a whole Gregorian cycle: if nothing matches by then, nothing ever will.
  const sys_days limit = startDay + days(146097);
  for (sys_days day = startDay; day < limit;) {
    const year_month_day ymd(day);
    const int month = static_cast<int>(unsigned(ymd.month()));
    if (!months_[month]) {
      day = sys_days(year_month_day(ymd.year() / ymd.month() / 1) + months(1));
      continue;
    }
    const int wd = static_cast<int>(std::chrono::weekday(day).c_encoding());
    if (dayMatches(static_cast<int>(unsigned(ymd.day())), wd)) {
      const bool first = day == startDay;
      const Seconds dayStart = duration_cast<seconds>(day.time_since_epoch()).count();
      for (int h = first ? startHour : 0; h < 24; ++h) {
        if (!hours_[h]) continue;
        for (int m = first && h == startHour ? startMinute : 0; m < 60; ++m)
          if (minutes_[m] && !visit(dayStart + h * 3600 + m * 60)) return;
      }
    }
    day += days(1);
  }
  throw CronError("cron expression '" + expr_ + "' never matches");
}

std::chrono::system_clock::time_point CronSchedule::next(std::chrono::system_clock::time_point after,
                                                         const std::string& tz) const {
  using namespace std::chrono;
  const cctz::time_zone zone = loadZone(tz);
  const Seconds a = floor<seconds>(after).time_since_epoch().count();
  const cctz::time_point<cctz::seconds> aTp{cctz::seconds(a)};
  // Local minutes from the one after `after`'s: floor to the minute, + 1.
  Seconds from = fromCivil(cctz::civil_minute(zone.lookup(aTp).cs)) + 60;
  // Inside the first pass of an hour that is about to repeat (fall back),
  // the local times already passed will come again: a wildcard job fires
  // in the second pass too, so look at them from the start of the repeat.
  cctz::time_zone::civil_transition tr;
  if (wildcardTime_ && zone.next_transition(aTp, &tr) && tr.to < tr.from &&
      fromCivil(tr.to) < from)
    from = fromCivil(tr.to);

  // Each matching local time happens at one instant (or two, in a repeated
  // hour); the answer is the earliest instant after `after`. Local time and
  // instants run in the same order except in a repeated hour, where a later
  // local time's first pass can come before an earlier one's second pass:
  // after a second-pass candidate, keep looking while that can happen.
  std::optional<Seconds> best;
  Seconds lookUntil = 0;
  forEachMatch(from, [&](Seconds local) {
    if (best && local > lookUntil) return false;
    const auto cl = zone.lookup(toCivil(local));
    Seconds t = 0;
    bool secondPass = false;
    switch (cl.kind) {
      case cctz::time_zone::civil_lookup::UNIQUE:
        t = toSeconds(cl.pre);
        break;
      case cctz::time_zone::civil_lookup::SKIPPED:
        // Spring forward: the first instant after the gap.
        t = toSeconds(cl.trans);
        break;
      case cctz::time_zone::civil_lookup::REPEATED:
        t = toSeconds(cl.pre);
        // Its first pass already happened; a wildcard job fires again in
        // the second (cron's rule), a fixed-time job does not.
        if (t <= a && wildcardTime_) {
          t = toSeconds(cl.post);
          secondPass = true;
        }
        break;
    }
    if (t <= a || (best && t >= *best)) return true;
    best = t;
    if (!secondPass) return false;
    lookUntil = local + (toSeconds(cl.post) - toSeconds(cl.pre));
    return true;
  });
  return system_clock::time_point(seconds(*best));
}

std::optional<std::chrono::system_clock::time_point> parseIsoTime(const std::string& text) {
  std::string t = text;
  if (t.size() > 10 && t[10] == ' ') t[10] = 'T';
  // With an offset (Z or +hh:mm), then without (UTC); seconds optional.
  for (const char* format : {"%Y-%m-%dT%H:%M:%E*S%Ez", "%Y-%m-%dT%H:%M%Ez", "%Y-%m-%dT%H:%M:%E*S",
                             "%Y-%m-%dT%H:%M"}) {
    std::chrono::system_clock::time_point tp;
    if (cctz::parse(format, t, cctz::utc_time_zone(), &tp)) return tp;
  }
  return std::nullopt;
}

std::string formatLocal(std::chrono::system_clock::time_point t, const std::string& tz) {
  return cctz::format("%Y-%m-%d %H:%M:%S %Z (%Ez)", t, loadZone(tz));
}

void WallAlarm::at(WallTime when, std::function<void()> fn) {
  when_ = when;
  fn_ = std::move(fn);
  arm();
}

void WallAlarm::cancel() {
  if (timer_) timer_->cancel();
}

void WallAlarm::arm() {
  using namespace std::chrono;
  if (!timer_) timer_ = clock_.makeTimer();
  const auto left = ceil<milliseconds>(when_ - clock_.wallNow());
  const auto wait = std::clamp(left, milliseconds(0), duration_cast<milliseconds>(kMaxWait));
  timer_->start(wait, [this] {
    if (clock_.wallNow() < when_) {
      arm();  // woke early (a long wait, or the wall clock was set back)
      return;
    }
    auto fn = fn_;  // fn may re-arm this alarm
    fn();
  });
}

}  // namespace bb
