#pragma once
// Events frames whose events are compressed (docs/protocol.md, "Events"):
// a client that subscribes with `compression: "zstd"` may get frames
// {subscription_id, count, events_zstd} instead of {subscription_id,
// events}, where events_zstd is one zstd frame of the MessagePack array
// the `events` key would have held. The master compresses a frame body
// once for every client watching the same thing, so each of them costs it
// a seventh of the bytes to send.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "common/message.hpp"  // Json

namespace bb {

// The most a compressed events array may expand to: far above any frame
// the master makes (it closes one at 256 KiB of events), low enough that a
// lying peer cannot make a client allocate much.
inline constexpr std::size_t kMaxEventsExpanded = 16u << 20;

// zstd (level 1) of the array of `count` events whose encodings are `body`
// back to back: the value of events_zstd.
std::shared_ptr<const std::vector<std::uint8_t>> compressEvents(std::size_t count,
                                                               const std::vector<std::uint8_t>& body);

// An Events frame's body as the client reads it: one with events_zstd is
// given its `events` array (and loses events_zstd and count); any other is
// returned as it is. Throws ProtocolError naming the problem when
// events_zstd is not binary, not zstd, expands past kMaxEventsExpanded, is
// not a MessagePack array, or holds another number of events than `count`.
Json expandEvents(Json frame);

}  // namespace bb
