#include "master/cluster/cluster_events.hpp"

#include <charconv>
#include <string_view>

#include <spdlog/spdlog.h>

#include "common/event_loop.hpp"
#include "master/buildsets/buildset_service.hpp"
#include "master/cluster/status_relay.hpp"
#include "master/db/database.hpp"
#include "master/db/db_listener.hpp"
#include "master/events/event_bus.hpp"

namespace bb {

namespace {

constexpr char kRequestChannel[] = "bb_request";
constexpr char kChangeChannel[] = "bb_change";
constexpr char kBuildsetDoneChannel[] = "bb_buildset_done";
constexpr char kSchedulerChannel[] = "bb_scheduler";
constexpr char kLockChannel[] = "bb_lock";
constexpr char kStatusChannel[] = "bb_status";
constexpr char kWantsChannel[] = "bb_wants";
// Changes and completed BuildSets go only to the masters that want them,
// each on its own channel: PREFIX + its master id.
constexpr char kChangePrefix[] = "bb_change_m";
constexpr char kBuildsetDonePrefix[] = "bb_buildset_done_m";
// A BuildSet completed elsewhere up to this many seconds before this
// master asked to hear of them is read again once it has (clocks and
// whole-second timestamps).
constexpr std::int64_t kCatchUpMargin = 10;
// PostgreSQL refuses a payload of 8000 bytes or more: ids go out in
// notifications of at most this many characters each.
constexpr std::size_t kMaxPayload = 7000;

// "MASTER:TOKEN,TOKEN,..." -> sender and tokens (ids; bb_status's are a
// letter and an id); false for anything else.
bool parseClusterPayload(const std::string& payload, std::int64_t& sender,
                         std::vector<std::string>& tokens) {
  const auto colon = payload.find(':');
  if (colon == std::string::npos) return false;
  const char* p = payload.data();
  if (std::from_chars(p, p + colon, sender).ptr != p + colon) return false;
  std::size_t at = colon + 1;
  while (at < payload.size()) {
    const auto comma = std::min(payload.find(',', at), payload.size());
    if (comma == at) return false;
    tokens.push_back(payload.substr(at, comma - at));
    at = comma + 1;
  }
  return true;
}

bool parseIds(const std::vector<std::string>& tokens, std::vector<std::int64_t>& ids) {
  for (const auto& t : tokens) {
    std::int64_t id = 0;
    if (std::from_chars(t.data(), t.data() + t.size(), id).ptr != t.data() + t.size()) return false;
    ids.push_back(id);
  }
  return true;
}

}  // namespace

ClusterEvents::ClusterEvents(db::Database& db, db::MasterId self, EventBus& events,
                             BuildsetService& buildsets, boost::asio::io_context& io, Clock& clock,
                             std::chrono::milliseconds refreshEvery, Hooks hooks)
    : db_(db),
      self_(self),
      events_(events),
      buildsets_(buildsets),
      clock_(clock),
      hooks_(std::move(hooks)),
      refreshEvery_(refreshEvery),
      ownChangeChannel_(kChangePrefix + std::to_string(self.value)),
      ownBuildsetDoneChannel_(kBuildsetDonePrefix + std::to_string(self.value)) {
  if (!db_.isShared()) return;
  relay_ = std::make_unique<StatusRelay>(db_, events_);
  // bb_change and bb_buildset_done themselves: what a master from before
  // schema 18 sends to all.
  listener_ = std::make_unique<db::DbListener>(
      io, db_.path(),
      std::vector<std::string>{kRequestChannel, kChangeChannel, kBuildsetDoneChannel, kSchedulerChannel,
                               kLockChannel, kStatusChannel, kWantsChannel, ownChangeChannel_,
                               ownBuildsetDoneChannel_},
      [this](const std::string& channel, const std::string& payload) { onNotify(channel, payload); },
      [this] {
        // Announcements made while the session was down were not heard:
        // look at the queue and the schedulers again.
        if (hooks_.wakeDistributor) hooks_.wakeDistributor();
        if (hooks_.schedulersReleased) hooks_.schedulersReleased();
        if (hooks_.catchUpChanges) hooks_.catchUpChanges();
        if (hooks_.locksReleased) hooks_.locksReleased();
        readOthersWishes();
        catchUpCompletedBuildsets(listener_->lostAt() - kCatchUpMargin, "while this master was not listening");
      });
  Subscriber s;
  s.name = "cluster events";
  s.filter.types = {EventType::ChangeAdded, EventType::RequestCreated, EventType::RequestUnclaimed,
                    EventType::RequestPriority, EventType::BuildsetCompleted,
                    // status, for watchers, pages and reporters elsewhere
                    EventType::BuildsetCreated, EventType::BuildStarted, EventType::StepStarted,
                    EventType::StepFinished, EventType::BuildFinished, EventType::LogLines};
  s.maxQueue = 1000000;  // it only appends an id per event
  s.deliver = [this](const Event& e) {
    switch (e.type) {
      case EventType::ChangeAdded: queue(kChangeChannel, std::to_string(e.changeId)); break;
      case EventType::BuildsetCompleted: queue(kBuildsetDoneChannel, std::to_string(e.buildsetId)); break;
      case EventType::RequestCreated:
        // Announced after this master's own pass, unless it took it.
        newRequests_.push_back(e.requestId);
        break;
      case EventType::RequestUnclaimed:
      case EventType::RequestPriority: queue(kRequestChannel, std::to_string(e.requestId)); break;
      default:
        // Nobody on another master for it: not even announced.
        if (!othersWantStatus_) break;
        if (auto token = StatusRelay::tokenFor(e)) queue(kStatusChannel, std::move(*token));
        break;
    }
    return true;
  };
  s.flush = [this] { flush(); };
  s.dropped = [](const std::string& why) {
    spdlog::critical("cluster events lost their subscription ({}); other masters hear of this "
                     "master's work only when it releases something, until it restarts",
                     why);
  };
  subscription_ = events_.subscribe(std::move(s)).id;
  // What this master wants of the others', and whether they want this
  // one's status: stored and read now, then kept up to date.
  raisedAt_ = wallSeconds();
  storeWishes(wanted());
  readOthersWishes();
  events_.onSubscribersChanged([this] { wishesMayHaveChanged(); });
  refreshTimer_ = clock.makeTimer();
  refreshTimer_->start(refreshEvery_, [this] { refresh(); });
  spdlog::info("cluster: listening for other masters on the shared database (master id {}; {})", self_.value,
               othersWantStatus_ ? "sending its status: another master wants it"
                                 : "not sending its status: no other master wants it now");
}

ClusterEvents::~ClusterEvents() {
  if (listener_) events_.onSubscribersChanged({});
  refreshTimer_.reset();
  if (subscription_) events_.unsubscribe(subscription_);
  // A round still waiting behind this master's pass is announced now.
  if (flushPosted_) flushNow();
  if (listener_)
    spdlog::info("cluster: {} notification(s) sent to other masters, {} heard from them", sent_, heard_);
}

void ClusterEvents::queue(const char* channel, std::string token) {
  pending_[channel].push_back(std::move(token));
}

void ClusterEvents::flush() {
  // A round that made requests waits for the pass it woke on this master
  // (posted before this): the others hear only of the requests this master
  // did not take, and are not woken to lose the race for the rest.
  if (hooks_.later && hooks_.holdsRequest && !newRequests_.empty()) {
    if (flushPosted_) return;
    flushPosted_ = true;
    onLoop([this] { flushNow(); });
    return;
  }
  flushNow();
}

void ClusterEvents::flushNow() {
  flushPosted_ = false;
  // New requests this master took in its pass are nobody else's business;
  // the rest wake the others (given back or re-prioritised ones always do).
  for (const auto id : newRequests_)
    if (!hooks_.holdsRequest || !hooks_.holdsRequest(id)) queue(kRequestChannel, std::to_string(id));
  newRequests_.clear();
  // The events were published after their transactions committed; one
  // notification per channel carries every id of this round, and all of
  // them go to the server in one round trip (a transaction of their own,
  // its statements sent ahead: docs/multimaster.md).
  auto pending = std::move(pending_);
  pending_.clear();
  std::vector<std::pair<const char*, std::string>> messages;
  for (const auto& [channel, tokens] : pending) {
    std::string list;
    for (const auto& one : tokens) {
      if (!list.empty() && list.size() + one.size() + 1 > kMaxPayload) {
        messages.emplace_back(channel.c_str(), std::move(list));
        list.clear();
      }
      if (!list.empty()) list += ',';
      list += one;
    }
    messages.emplace_back(channel.c_str(), std::move(list));
  }
  if (messages.empty()) return;
  try {
    db_.transaction([&] {
      for (const auto& [channel, ids] : messages) {
        const std::string payload = std::to_string(self_.value) + ":" + ids;
        // Changes and completed BuildSets only to the masters that want
        // them (as they stand when the statement runs: one that raises
        // its wish later reads them from the tables, storeWishes()).
        if (std::string_view(channel) == kChangeChannel)
          db_.notifyMastersWanting(db::Database::Wish::Changes, kChangePrefix, self_, payload);
        else if (std::string_view(channel) == kBuildsetDoneChannel)
          db_.notifyMastersWanting(db::Database::Wish::Buildsets, kBuildsetDonePrefix, self_, payload);
        else
          db_.notify(channel, payload);
      }
    });
    sent_ += messages.size();
  } catch (const std::exception& e) {
    // The rows are written; another master finds them when something
    // else wakes it (its listener reconnecting, its next own event).
    std::string what;
    for (const auto& [channel, ids] : messages) what += (what.empty() ? "" : ", ") + std::string(channel) + " (" + ids + ")";
    spdlog::error("cluster: cannot announce on {}: {}", what, e.what());
  }
}

void ClusterEvents::send(const char* channel, const std::string& ids) {
  try {
    db_.notify(channel, std::to_string(self_.value) + ":" + ids);
    ++sent_;
  } catch (const std::exception& e) {
    spdlog::error("cluster: cannot announce on {} ({}): {}", channel, ids, e.what());
  }
}

void ClusterEvents::catchUpCompletedBuildsets(std::int64_t since, const char* when) {
  // BuildSets another master completed since `since` (a margin before this
  // master stopped listening, or before it asked to hear of them: a
  // notification sent about then may not have reached it), published as
  // if heard, for dependent schedulers and trigger steps. One this master
  // handled already is ignored there (a dependent remembers what it
  // handled, a trigger wait ends at once).
  int n = 0;
  for (const auto id : db_.buildsetsCompletedSince(since, self_))
    if (buildsets_.completedElsewhere(id)) ++n;
  if (n) spdlog::info("cluster: {} buildset(s) completed elsewhere {}", n, when);
}

std::int64_t ClusterEvents::wallSeconds() const {
  return std::chrono::duration_cast<std::chrono::seconds>(clock_.wallNow().time_since_epoch()).count();
}

void ClusterEvents::announceRequests() {
  if (listener_) send(kRequestChannel, "");
}

void ClusterEvents::announceSchedulersReleased() {
  if (listener_) send(kSchedulerChannel, "");
}

void ClusterEvents::announceLocksReleased() {
  if (listener_) send(kLockChannel, "");
}

db::MasterWishes ClusterEvents::wanted() const {
  return {relay_->anyMayBeWanted(), hooks_.wantsChanges && hooks_.wantsChanges(),
          events_.anyoneMayWant(EventType::BuildsetCompleted, /*fromOtherMaster=*/true)};
}

void ClusterEvents::wishesMayHaveChanged() {
  // Raised at once (posted: the subscription that raised it is complete
  // by then), so that the others start sending; lowered only at the next
  // refresh, so that watchers coming and going do not write each time.
  if (!listener_ || raisePosted_ || raisedOnly(wanted()) == stored_) return;
  raisePosted_ = true;
  if (!raisePending_) raisedAt_ = wallSeconds();
  raisePending_ = true;
  onLoop([this] {
    raisePosted_ = false;
    storeWishes(raisedOnly(wanted()));
  });
}

db::MasterWishes ClusterEvents::raisedOnly(const db::MasterWishes& now) const {
  return {now.status || stored_.status, now.changes || stored_.changes, now.buildsets || stored_.buildsets};
}

void ClusterEvents::onLoop(std::function<void()> fn) {
  if (!hooks_.later) {
    fn();
    return;
  }
  std::weak_ptr<bool> alive = alive_;
  hooks_.later([alive, fn = std::move(fn)] {
    if (alive.lock()) fn();
  });
}

void ClusterEvents::storeWishes(const db::MasterWishes& w) {
  if (storedKnown_ && w == stored_) {
    raisePending_ = false;
    return;
  }
  try {
    db_.transaction([&] {
      db_.setMasterWishes(self_, w);
      db_.notify(kWantsChannel, std::to_string(self_.value) + ":");
    });
    ++sent_;
  } catch (const std::exception& e) {
    // The next refresh tries again; meanwhile the others go by the wishes
    // as stored.
    spdlog::error("cluster: cannot store what this master wants of the other masters (status: {}, changes: "
                  "{}, buildsets: {}): {}",
                  w.status ? "yes" : "no", w.changes ? "yes" : "no", w.buildsets ? "yes" : "no", e.what());
    return;
  }
  const auto before = stored_;
  const bool first = !storedKnown_;
  stored_ = w;
  storedKnown_ = true;
  raisePending_ = false;
  // The others announce only to masters whose wish they read when they
  // announce; what they announced before this wish was stored was not
  // sent here. Read it from the tables now: the changes no scheduler here
  // classified (the schedulers catch up), the BuildSets completed since a
  // margin before the wish arose. A second delivery is harmless (a change
  // decided, a BuildSet handled, is passed over).
  // Posted: at the first store the schedulers have not started yet.
  if (w.changes && (first || !before.changes) && hooks_.catchUpChanges) onLoop(hooks_.catchUpChanges);
  if (w.buildsets && (first || !before.buildsets))
    onLoop([this, since = raisedAt_ - kCatchUpMargin] {
      try {
        catchUpCompletedBuildsets(since, "before this master's wish to hear of them was stored");
      } catch (const std::exception& e) {
        spdlog::error("cluster: cannot read the buildsets other masters completed: {}", e.what());
      }
    });
}

void ClusterEvents::readOthersWishes() {
  try {
    const bool before = othersWantStatus_;
    othersWantStatus_ = db_.otherMastersWantStatus(self_);
    if (wishesKnown_ && before != othersWantStatus_)
      spdlog::info("cluster: {} this master's status to other masters ({})",
                   othersWantStatus_ ? "sending" : "no longer sending",
                   othersWantStatus_ ? "one of them has a watcher, an event stream or a reporter for it"
                                     : "none of them has anyone for it");
    wishesKnown_ = true;
  } catch (const std::exception& e) {
    othersWantStatus_ = true;  // in doubt, sent
    spdlog::error("cluster: cannot read whether other masters want this master's status ({}); sending it",
                  e.what());
  }
}

void ClusterEvents::refresh() {
  refreshTimer_->start(refreshEvery_, [this] { refresh(); });
  // Lowered wishes are stored now; a raise the database refused is tried
  // again.
  if (!raisePosted_) storeWishes(wanted());
  readOthersWishes();
}

void ClusterEvents::onNotify(const std::string& heardOn, const std::string& payload) {
  // This master's own channels carry what the shared ones carried before.
  const std::string_view channel = heardOn == ownChangeChannel_         ? kChangeChannel
                                   : heardOn == ownBuildsetDoneChannel_ ? kBuildsetDoneChannel
                                                                        : std::string_view(heardOn);
  std::int64_t sender = 0;
  std::vector<std::string> tokens;
  std::vector<std::int64_t> ids;
  if (!parseClusterPayload(payload, sender, tokens) || (channel != kStatusChannel && !parseIds(tokens, ids))) {
    spdlog::warn("cluster: ignoring a notification on {} that is not MASTER:IDS: '{}'", heardOn, payload);
    return;
  }
  if (sender == self_.value) return;
  ++heard_;
  if (channel == kStatusChannel) {
    // One token failing (its rows unreadable) does not keep the others
    // from this master's watchers; the status itself is in the database.
    for (const auto& t : tokens) {
      try {
        std::string why;
        if (!relay_->relay(t, why))
          spdlog::warn("cluster: status '{}' from master {} not relayed: {}", t, sender, why);
      } catch (const std::exception& e) {
        spdlog::error("cluster: status '{}' from master {} not relayed: {}", t, sender, e.what());
      }
    }
  } else if (channel == kRequestChannel) {
    if (hooks_.wakeDistributor) hooks_.wakeDistributor();
  } else if (channel == kChangeChannel) {
    if (hooks_.wantsChanges && !hooks_.wantsChanges()) return;
    // One change failing (a full disk refusing its classification) does
    // not keep the others of the notification from this master's schedulers.
    for (const auto id : ids) {
      try {
        auto change = db_.getChange(id);
        if (!change) {
          spdlog::error("cluster: master {} announced change {}, which is not in the database", sender, id);
          continue;
        }
        if (hooks_.changeFromOtherMaster) hooks_.changeFromOtherMaster(*change);
      } catch (const std::exception& e) {
        spdlog::error("cluster: change {} from master {} did not reach this master's schedulers: {}", id,
                      sender, e.what());
      }
    }
  } else if (channel == kBuildsetDoneChannel) {
    for (const auto id : ids)
      if (!buildsets_.completedElsewhere(id))
        spdlog::error("cluster: master {} announced buildset {} complete, which the database does not show",
                      sender, id);
  } else if (channel == kSchedulerChannel) {
    if (hooks_.schedulersReleased) hooks_.schedulersReleased();
  } else if (channel == kLockChannel) {
    if (hooks_.locksReleased) hooks_.locksReleased();
  } else if (channel == kWantsChannel) {
    readOthersWishes();
  }
}

}  // namespace bb
