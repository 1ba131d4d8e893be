#include "master/port/event_fanout.hpp"

#include <algorithm>
#include <vector>

#include <spdlog/spdlog.h>

#include "common/connection.hpp"
#include "common/events_zstd.hpp"
#include "common/frame.hpp"
#include "common/message.hpp"
#include "common/msgpack_write.hpp"
#include "master/events/event_bus.hpp"

namespace bb {

namespace {

// A filter as a key: every field, each value with its length, so two
// filters have the same key exactly when they match the same events.
std::string keyOf(const EventFilter& f) {
  std::string k;
  auto add = [&k](char tag, const std::string& v) {
    k += tag;
    k += std::to_string(v.size());
    k += ':';
    k += v;
  };
  for (const auto& t : f.topics) add('t', t);
  for (auto type : f.types) add('y', std::string(toString(type)));
  if (f.builder) add('b', *f.builder);
  if (f.slave) add('s', *f.slave);
  if (f.scheduler) add('c', *f.scheduler);
  if (f.buildsetId) add('S', std::to_string(*f.buildsetId));
  if (f.buildId) add('B', std::to_string(*f.buildId));
  add('o', f.otherMasters ? "1" : "0");
  return k;
}

}  // namespace

std::vector<std::uint8_t> eventsFrameHead(std::uint64_t subscriptionId) {
  std::vector<std::uint8_t> head;
  msgpack::putMapHeader(head, 2);
  msgpack::putString(head, "subscription_id");
  msgpack::putUnsigned(head, subscriptionId);
  msgpack::putString(head, "events");
  return head;
}

struct EventFanout::Group {
  std::string key;
  std::uint64_t busId = 0;
  struct Joined {
    Member member;
    // It wants the events after this seq: the newest published when it
    // joined, then the last event of each frame it was sent.
    std::uint64_t after = 0;
    // Its frames' head: room for the frame header, then
    // {"subscription_id": id, "events": and the array-16 header's room.
    std::vector<std::uint8_t> head;
    // The same for a compressed frame, if it asked for them: the frame
    // header's room, {"subscription_id": id, "count": (uint 16) and
    // "events_zstd": with a bin 32 header's room.
    std::vector<std::uint8_t> zhead;
    std::size_t zcountAt = 0;  // where in zhead the count's two bytes are
  };
  std::map<std::uint64_t, Joined> members;  // by subscription id
  // The frame body being filled: the events' encodings back to back, and
  // where each starts (a member that joined meanwhile gets a suffix).
  std::shared_ptr<std::vector<std::uint8_t>> body = std::make_shared<std::vector<std::uint8_t>>();
  std::vector<std::pair<std::uint64_t, std::size_t>> starts;  // (seq, offset)
  FramePacer pacer{kFrameBurst, kFramesPerSecond};
  std::unique_ptr<Timer> timer;
};

EventFanout::EventFanout(EventBus& bus, Clock& clock) : bus_(bus), clock_(clock) {}

EventFanout::~EventFanout() {
  *alive_ = false;
  for (auto& [key, g] : groups_) bus_.unsubscribe(g->busId);
}

bool EventFanout::shareable(const EventFilter& f) { return !f.changeId; }

std::uint64_t EventFanout::join(const EventFilter& filter, Member m) {
  const std::string key = keyOf(filter);
  auto& g = groups_[key];
  if (!g) {
    g = std::make_shared<Group>();
    g->key = key;
    Subscriber s;
    s.name = "clients watching " + filter.describe();
    s.filter = filter;
    s.maxQueue = 10000;  // never reached: the group takes every event offered
    std::weak_ptr<Group> weak = g;
    std::weak_ptr<bool> alive = alive_;
    s.deliverBatch = [this, weak, alive](std::span<const std::shared_ptr<const Event>> evs) -> std::size_t {
      if (!alive.lock()) return evs.size();
      if (auto grp = weak.lock()) append(grp, evs);
      return evs.size();
    };
    s.flush = [this, weak, alive] {
      if (!alive.lock()) return;
      if (auto grp = weak.lock()) flush(grp);
    };
    s.dropped = [this, key, alive](const std::string& why) {
      if (alive.lock()) dropGroup(key, why);
    };
    g->busId = bus_.subscribe(std::move(s)).id;
    spdlog::debug("event fanout: a group for {}", filter.describe());
  }
  const std::uint64_t id = m.subscriptionId;
  Group::Joined& j = g->members[id];
  j.member = std::move(m);
  j.after = bus_.lastSeq();
  j.head.assign(kFrameHeaderSize, 0);
  const auto mapHead = eventsFrameHead(id);
  j.head.insert(j.head.end(), mapHead.begin(), mapHead.end());
  j.head.insert(j.head.end(), {0xdc, 0, 0});  // array 16, its count set per frame
  j.zhead.clear();
  if (j.member.zstd) {
    j.zhead.assign(kFrameHeaderSize, 0);
    j.zhead.push_back(0x83);  // a map of 3
    msgpack::putString(j.zhead, "subscription_id");
    msgpack::putUnsigned(j.zhead, id);
    msgpack::putString(j.zhead, "count");
    j.zhead.push_back(0xcd);  // uint 16, set per frame
    j.zcountAt = j.zhead.size();
    j.zhead.insert(j.zhead.end(), {0, 0});
    msgpack::putString(j.zhead, "events_zstd");
    j.zhead.insert(j.zhead.end(), {0xc6, 0, 0, 0, 0});  // bin 32, its size set per frame
  }
  memberGroup_[id] = key;
  return bus_.lastSeq();
}

void EventFanout::leave(std::uint64_t subscriptionId) {
  auto it = memberGroup_.find(subscriptionId);
  if (it == memberGroup_.end()) return;
  auto git = groups_.find(it->second);
  memberGroup_.erase(it);
  if (git == groups_.end()) return;
  auto& g = git->second;
  g->members.erase(subscriptionId);
  if (!g->members.empty()) return;
  bus_.unsubscribe(g->busId);
  groups_.erase(git);
}

void EventFanout::append(const std::shared_ptr<Group>& g, std::span<const std::shared_ptr<const Event>> evs) {
  for (const auto& e : evs) {
    const auto& packed = e->packed();
    g->starts.emplace_back(e->seq, g->body->size());
    g->body->insert(g->body->end(), packed.begin(), packed.end());
    if (g->starts.size() >= kMaxBatch || g->body->size() >= kMaxBatchBytes) send(g);
  }
}

void EventFanout::flush(const std::shared_ptr<Group>& g) {
  // As the bucket allows (a full body went at once).
  if (g->timer && g->timer->pending()) return;  // a paced send is due anyway
  const auto wait = g->pacer.wait(clock_.now());
  if (!wait) {
    send(g);
    return;
  }
  if (!g->timer) g->timer = clock_.makeTimer();
  std::weak_ptr<Group> weak = g;
  std::weak_ptr<bool> alive = alive_;
  g->timer->start(*wait, [this, weak, alive] {
    if (!alive.lock()) return;
    if (auto grp = weak.lock()) send(grp);
  });
}

void EventFanout::send(const std::shared_ptr<Group>& g) {
  if (g->starts.empty()) return;
  if (g->timer) g->timer->cancel();
  const std::shared_ptr<const std::vector<std::uint8_t>> body = std::move(g->body);
  const auto starts = std::move(g->starts);
  g->body = std::make_shared<std::vector<std::uint8_t>>();
  g->body->reserve(body->size());
  g->starts.clear();
  g->pacer.sent();
  const std::uint64_t lastSeq = starts.back().first;
  std::vector<std::pair<Member, std::uint64_t>> leaving;
  std::shared_ptr<const std::vector<std::uint8_t>> compressed;  // made for the first member that takes it
  bool triedToCompress = false;
  for (auto& [id, j] : g->members) {
    // The member's part: the events after `after` (all of them unless it
    // joined while this body was filling).
    const std::uint64_t after = j.after;
    const auto first = std::find_if(starts.begin(), starts.end(),
                                    [after](const auto& s) { return s.first > after; });
    if (first == starts.end()) continue;
    auto conn = j.member.conn.lock();
    if (!conn || !conn->isOpen()) continue;  // closing: its session leaves
    if (conn->queuedBytes() > kBusyBytes) {
      leaving.emplace_back(j.member, after);
      continue;
    }
    const auto count = static_cast<std::size_t>(starts.end() - first);
    const bool wantsCompressed = j.member.zstd && first == starts.begin();  // the whole frame
    if (wantsCompressed && !triedToCompress) {
      triedToCompress = true;
      try {
        compressed = compressEvents(count, *body);
      } catch (const std::exception& e) {
        // Its members get the frame as it is: a client that asked for
        // compression reads both forms.
        spdlog::warn("event fanout: {}; clients watching {} get this frame uncompressed", e.what(), g->key);
      }
    }
    if (wantsCompressed && compressed) {
      const std::size_t n = j.zhead.size();
      const std::size_t size = compressed->size();
      j.zhead[j.zcountAt] = static_cast<std::uint8_t>(count >> 8);
      j.zhead[j.zcountAt + 1] = static_cast<std::uint8_t>(count & 0xff);
      for (int b = 0; b < 4; ++b) j.zhead[n - 4 + b] = static_cast<std::uint8_t>(size >> (8 * (3 - b)));  // bin 32
      encodeFrameHeader(static_cast<std::uint16_t>(MsgType::Events), n - kFrameHeaderSize + size, j.zhead.data());
      conn->sendShared(j.zhead, compressed, 0);
      j.after = lastSeq;
      continue;
    }
    const std::size_t n = j.head.size();
    j.head[n - 2] = static_cast<std::uint8_t>(count >> 8);
    j.head[n - 1] = static_cast<std::uint8_t>(count & 0xff);
    encodeFrameHeader(static_cast<std::uint16_t>(MsgType::Events),
                      n - kFrameHeaderSize + body->size() - first->second, j.head.data());
    conn->sendShared(j.head, body, first->second);
    j.after = lastSeq;
  }
  for (auto& [member, after] : leaving) {
    leave(member.subscriptionId);
    if (member.left) member.left(after);
  }
}

void EventFanout::dropGroup(const std::string& key, const std::string& why) {
  auto it = groups_.find(key);
  if (it == groups_.end()) return;
  auto g = it->second;
  groups_.erase(it);
  for (auto& [id, j] : g->members) {
    memberGroup_.erase(id);
    if (j.member.dropped) j.member.dropped(why);
  }
}

}  // namespace bb
