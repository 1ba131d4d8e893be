#include "master/schedulers/force.hpp"

#include <algorithm>

#include "common/interpolate.hpp"

namespace bb {

namespace {
std::string optionalString(const Json& params, const char* key, std::vector<std::string>& errors) {
  auto it = params.find(key);
  if (it == params.end() || it->is_null()) return "";
  if (!it->is_string()) {
    errors.push_back(std::string(key) + " must be a string");
    return "";
  }
  return it->get<std::string>();
}
}  // namespace

Json ForceScheduler::describe() const {
  return Json{{"builders", cfg_.builders},
              {"fields", {"builders", "branch", "revision", "repository", "project", "reason",
                          "owner", "priority", "properties"}}};
}

std::string ForceScheduler::builderList() const {
  std::string list;
  for (const auto& b : cfg_.builders) list += (list.empty() ? "" : ", ") + b;
  return list;
}

NewBuildset ForceScheduler::force(const Json& params, const std::string& user,
                                  const std::vector<std::string>& allBuilders,
                                  std::vector<std::string>* notes) {
  std::vector<std::string> errors;
  if (!params.is_object()) throw ForceError("force parameters must be a map", {});
  std::vector<std::string> builders;
  if (auto it = params.find("builders"); it != params.end() && !it->is_null()) {
    if (!it->is_array()) {
      errors.push_back("builders must be a list of builder names");
    } else {
      for (const auto& b : *it) {
        if (!b.is_string()) {
          errors.push_back("builders must be a list of builder names");
          continue;
        }
        const auto name = b.get<std::string>();
        const auto has = [&](const std::vector<std::string>& v) {
          return std::find(v.begin(), v.end(), name) != v.end();
        };
        if (has(cfg_.builders))
          builders.push_back(name);
        else if (!allBuilders.empty() && !has(allBuilders))
          errors.push_back("there is no builder '" + name + "'; force scheduler '" + cfg_.name +
                           "' can build: " + builderList());
        else
          errors.push_back("builder '" + name + "' is not on force scheduler '" + cfg_.name +
                           "'; it can build: " + builderList());
      }
    }
  }
  if (builders.empty() && errors.empty()) builders = cfg_.builders;
  const std::string branch = optionalString(params, "branch", errors);
  const std::string revision = optionalString(params, "revision", errors);
  const std::string repository = optionalString(params, "repository", errors);
  const std::string project = optionalString(params, "project", errors);
  std::string reason = optionalString(params, "reason", errors);
  std::string owner = optionalString(params, "owner", errors);
  if (owner.empty()) owner = user;
  int priority = cfg_.priority;
  if (auto it = params.find("priority"); it != params.end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<std::int64_t>() < -1000000 ||
        it->get<std::int64_t>() > 1000000)
      errors.push_back("priority must be a whole number from -1000000 to 1000000");
    else
      priority = it->get<int>();
  }
  if (revision.find_first_of(" \t\n") != std::string::npos)
    errors.push_back("revision must not contain whitespace");
  Json props = schedulerProperties();
  if (auto it = params.find("properties"); it != params.end() && !it->is_null()) {
    if (!it->is_object()) {
      errors.push_back("properties must be a map of name: value");
    } else {
      for (auto p = it->begin(); p != it->end(); ++p) {
        if (auto bad = checkPropertyName(p.key()))
          errors.push_back(*bad);
        else if (isSourceStampProperty(p.key())) {
          // The build would take it from the source stamp anyway: say so.
          if (notes) notes->push_back(sourceStampPropertyNote(p.key(), "--" + p.key()));
        } else
          props[p.key()] = Json::array({p.value(), "Force"});
      }
    }
  }
  if (!errors.empty())
    throw ForceError("force scheduler '" + cfg_.name + "' rejected the request", errors);
  if (reason.empty()) reason = "forced by " + owner;
  props["owner"] = Json::array({owner, "Force"});
  db::SourceStamp ss{repository, branch, revision, project, {}, nullptr};
  return ctx_.buildsets.create(cfg_.name, reason, ss, props, builders, priority);
}

}  // namespace bb
