#include "master/changes/change_bus.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "master/db/database.hpp"
#include "master/events/event_bus.hpp"

namespace bb {

void ChangeBus::subscribe(ChangeSubscriber* s) {
  subscribers_.push_back(s);
  if (subscribersChanged_) subscribersChanged_();
}

void ChangeBus::unsubscribe(ChangeSubscriber* s) {
  subscribers_.erase(std::remove(subscribers_.begin(), subscribers_.end(), s), subscribers_.end());
  if (subscribersChanged_) subscribersChanged_();
}

std::int64_t ChangeBus::addChange(db::ChangeRecord change,
                                  const std::function<void()>& alsoInTransaction) {
  db_.transaction([&] {
    change.id = db_.addChange(change);
    for (ChangeSubscriber* s : subscribers_)
      if (s->wantsSource(change.source)) s->onChange(change);
    if (alsoInTransaction) alsoInTransaction();
    Event e;
    e.type = EventType::ChangeAdded;
    e.changeId = change.id;
    e.data = Json{{"author", change.author}, {"branch", change.branch},
                  {"revision", change.revision}, {"repository", change.repository},
                  {"project", change.project}, {"source", change.source}};
    events_.publish(std::move(e));
  });
  ++added_;
  spdlog::info("change {} accepted from {}: {} {} by {}", change.id, change.source, change.branch,
               change.revision.substr(0, 12), change.author);
  return change.id;
}

bool ChangeBus::takesOtherMastersChanges() const {
  return std::any_of(subscribers_.begin(), subscribers_.end(),
                     [](const ChangeSubscriber* s) { return s->takesOtherMastersChanges(); });
}

void ChangeBus::deliverFromOtherMaster(const db::ChangeRecord& change) {
  auto wants = [&](const ChangeSubscriber* s) {
    return s->takesOtherMastersChanges() && s->wantsSource(change.source);
  };
  if (std::none_of(subscribers_.begin(), subscribers_.end(), wants)) return;
  int given = 0;
  db_.transaction([&] {
    for (ChangeSubscriber* s : subscribers_)
      if (wants(s) && !s->alreadyClassified(change)) {
        s->onChange(change);
        ++given;
      }
  });
  if (given > 0)
    spdlog::info("change {} (accepted by another master) reached this master's schedulers", change.id);
}

}  // namespace bb
