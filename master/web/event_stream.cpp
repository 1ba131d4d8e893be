// GET /api/v2/events: the event bus as Server-Sent Events. Each client is
// one bus subscriber: its filter comes from the query (topics, builder,
// slave, scheduler, buildset_id, build_id, change_id), Last-Event-ID
// resumes from the bus's kept history, and its queue is bounded twice (the
// bytes waiting on the socket, then the bus's queue): a client that falls
// behind gets a last `dropped` event and is disconnected. A client gets its
// events in rounds, at most one every 50 ms, each one write.
#include <charconv>
#include <set>
#include <span>
#include <vector>

#include "master/events/event_bus.hpp"
#include "master/web/rest_common.hpp"

namespace bb::web {

namespace {

constexpr std::size_t kMaxSocketBytes = 256 * 1024;  // then the bus's queue holds them
constexpr std::size_t kMaxQueuedEvents = 2000;       // then the client is dropped
// A client gets what happened at most every kRound, in one write: a round
// and a write per event per client cost the master more than the builds
// with many clients (docs/performance.md, "Web"); a browser cannot tell.
constexpr auto kRound = std::chrono::milliseconds(50);

std::string sseEvent(const std::string& type, const std::string& data, std::uint64_t id = 0) {
  std::string out;
  if (id) out += "id: " + std::to_string(id) + "\n";
  out += "event: " + type + "\ndata: " + data + "\n\n";
  return out;
}

EventFilter filterOf(const HttpRequest& req) {
  Json p = Json::object();
  Json topics = Json::array();
  for (const char* key : {"topic", "topics"}) {
    auto [b, e] = req.query.equal_range(key);
    for (auto it = b; it != e; ++it) {
      std::size_t pos = 0;
      const std::string& v = it->second;
      while (pos <= v.size()) {
        auto c = v.find(',', pos);
        if (c == std::string::npos) c = v.size();
        if (c > pos) topics.push_back(v.substr(pos, c - pos));
        pos = c + 1;
      }
    }
  }
  if (!topics.empty()) p["topics"] = topics;
  for (const char* key : {"builder", "slave", "scheduler"})
    if (req.hasParam(key)) p[key] = req.param(key);
  for (const char* key : {"buildset_id", "build_id", "change_id"})
    if (req.hasParam(key)) p[key] = pathId(PathParams{{key, req.param(key)}}, key);
  if (req.hasParam("local_only")) {
    const std::string v = req.param("local_only");
    if (v != "true" && v != "false" && v != "1" && v != "0")
      throw HttpError(400, "local_only must be true or false, not '" + v + "'");
    p["local_only"] = v == "true" || v == "1";
  }
  for (const auto& [k, v] : req.query) {
    static const std::set<std::string> known = {"topic", "topics", "builder", "slave", "scheduler",
                                                "buildset_id", "build_id", "change_id", "local_only",
                                                "last_event_id"};
    if (!known.count(k)) throw HttpError(400, "unknown parameter '" + k + "' for the event stream");
  }
  try {
    return EventFilter::fromJson(p);
  } catch (const std::invalid_argument& e) {
    throw HttpError(400, e.what());
  }
}

// The SSE text of the latest events, made once and shared (not copied) by
// every client that gets them: with many clients on every event,
// serialising or copying each event per client cost more than the rest of
// the dispatch (docs/performance.md, "Web"). Keyed by the bus's sequence
// number; bounded.
class EventTextCache {
 public:
  // A ring indexed by sequence number: every client of a round asks for
  // the same few events, so a slot is found without hashing.
  const std::shared_ptr<const std::string>& text(const Event& e) {
    Slot& slot = slots_[e.seq % kKept];
    if (slot.seq != e.seq || !slot.text) {
      slot.seq = e.seq;
      slot.text = std::make_shared<const std::string>(
          sseEvent(std::string(toString(e.type)),
                   toJson(e).dump(-1, ' ', false, Json::error_handler_t::replace), e.seq));
    }
    return slot.text;
  }

 private:
  static constexpr std::size_t kKept = 4096;
  struct Slot {
    std::uint64_t seq = 0;
    std::shared_ptr<const std::string> text;
  };
  std::vector<Slot> slots_ = std::vector<Slot>(kKept);
};

std::optional<std::uint64_t> lastEventId(const HttpRequest& req) {
  std::string v = req.header("last-event-id");
  if (v.empty()) v = req.param("last_event_id");
  if (v.empty()) return std::nullopt;
  std::uint64_t n = 0;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || end != v.data() + v.size())
    throw HttpError(400, "Last-Event-ID must be an event's id (a number), got '" + v + "'");
  return n;
}

}  // namespace

void addEventStream(Router& r, WebContext& ctx) {
  auto cache = std::make_shared<EventTextCache>();
  r.add("GET", "/api/v2/events", [&ctx, cache](HttpRequest& req, const PathParams&) {
    ctx.requireRead(req);
    EventFilter filter = filterOf(req);
    const auto after = lastEventId(req);
    HttpResponse res;
    res.contentType = "text/event-stream";
    const std::string who = "web events " + req.remote;
    res.events = [&ctx, cache, filter, after, who](std::shared_ptr<StreamSink> sink) {
      std::weak_ptr<StreamSink> weak = sink;
      Subscriber s;
      s.name = who;
      s.filter = filter;
      s.afterSeq = after;
      s.maxQueue = kMaxQueuedEvents;
      s.every = kRound;
      // One call per delivery round, however many events: with many
      // clients on every event the per-event calls were the cost.
      auto pieces = std::make_shared<std::vector<std::shared_ptr<const std::string>>>();
      s.deliverBatch = [weak, cache, pieces](std::span<const std::shared_ptr<const Event>> evs) {
        auto k = weak.lock();
        if (!k) return evs.size();  // gone: nothing to keep
        std::size_t bytes = k->queued();
        std::size_t took = 0;
        for (const auto& e : evs) {
          if (bytes > kMaxSocketBytes) break;  // the rest wait in the bus's queue
          const auto& text = cache->text(*e);
          bytes += text->size();
          pieces->push_back(text);
          ++took;
        }
        k->pushAll(*pieces);
        return took;
      };
      s.dropped = [weak](const std::string& reason) {
        if (auto k = weak.lock()) k->finish(sseEvent("dropped", Json{{"reason", reason}}.dump()));
      };
      EventBus* bus = &ctx.events;
      const auto sub = bus->subscribe(std::move(s));
      sink->push("retry: 3000\n\n");
      if (!sub.replayComplete)
        sink->push(sseEvent("gap", Json{{"reason", "events after Last-Event-ID are no longer kept; reload"},
                                        {"last_seq", sub.lastSeq}}.dump()));
      const auto id = sub.id;
      sink->onDrained = [bus, id] { bus->resume(id); };
      sink->onClosed = [bus, id] { bus->unsubscribe(id); };
    };
    return res;
  });
}

}  // namespace bb::web
