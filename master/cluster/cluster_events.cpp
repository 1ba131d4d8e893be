#include "master/cluster/cluster_events.hpp"

#include <charconv>

#include <spdlog/spdlog.h>

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
                             BuildsetService& buildsets, boost::asio::io_context& io, Hooks hooks)
    : db_(db), self_(self), events_(events), buildsets_(buildsets), hooks_(std::move(hooks)) {
  if (!db_.isShared()) return;
  relay_ = std::make_unique<StatusRelay>(db_, events_);
  listener_ = std::make_unique<db::DbListener>(
      io, db_.path(),
      std::vector<std::string>{kRequestChannel, kChangeChannel, kBuildsetDoneChannel, kSchedulerChannel,
                               kLockChannel, kStatusChannel},
      [this](const std::string& channel, const std::string& payload) { onNotify(channel, payload); },
      [this] {
        // Announcements made while the session was down were not heard:
        // look at the queue and the schedulers again.
        if (hooks_.wakeDistributor) hooks_.wakeDistributor();
        if (hooks_.schedulersReleased) hooks_.schedulersReleased();
        if (hooks_.reconnected) hooks_.reconnected();
        if (hooks_.locksReleased) hooks_.locksReleased();
        catchUpCompletedBuildsets();
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
      case EventType::RequestUnclaimed:
      case EventType::RequestPriority: queue(kRequestChannel, std::to_string(e.requestId)); break;
      default:
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
  spdlog::info("cluster: listening for other masters on the shared database (master id {})", self_.value);
}

ClusterEvents::~ClusterEvents() {
  if (subscription_) events_.unsubscribe(subscription_);
  if (listener_)
    spdlog::info("cluster: {} notification(s) sent to other masters, {} heard from them", sent_, heard_);
}

void ClusterEvents::queue(const char* channel, std::string token) {
  pending_[channel].push_back(std::move(token));
}

void ClusterEvents::flush() {
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
      for (const auto& [channel, ids] : messages) db_.notify(channel, std::to_string(self_.value) + ":" + ids);
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

void ClusterEvents::catchUpCompletedBuildsets() {
  // BuildSets another master completed while this master was not listening
  // (from a margin before the loss: a notification sent just before it may
  // not have been read): published as if heard, for dependent schedulers
  // and trigger steps. One this master handled already is ignored there
  // (a dependent remembers what it handled, a trigger wait ends at once).
  constexpr std::int64_t kMargin = 10;
  const std::int64_t since = listener_->lostAt() - kMargin;
  int n = 0;
  for (const auto id : db_.buildsetsCompletedSince(since, self_))
    if (buildsets_.completedElsewhere(id)) ++n;
  if (n) spdlog::info("cluster: {} buildset(s) completed elsewhere while this master was not listening", n);
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

void ClusterEvents::onNotify(const std::string& channel, const std::string& payload) {
  std::int64_t sender = 0;
  std::vector<std::string> tokens;
  std::vector<std::int64_t> ids;
  if (!parseClusterPayload(payload, sender, tokens) || (channel != kStatusChannel && !parseIds(tokens, ids))) {
    spdlog::warn("cluster: ignoring a notification on {} that is not MASTER:IDS: '{}'", channel, payload);
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
  }
}

}  // namespace bb
