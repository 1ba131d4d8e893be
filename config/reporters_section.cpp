// The `reporters:` section: a name and a type here, the rest by the
// type's kind (master/reporters/, registered in reporter_types.cpp).
#include "config/yaml_util.hpp"

namespace bb::cfg {

void parseReporters(const MapReader& top, MasterParse& p) {
  std::vector<std::string> types;
  for (const auto& k : p.kinds.reporters) types.push_back(k.name);
  forEachItem(top, "reporters", [&](const YAML::Node& item, std::size_t i) {
    MapReader r(item, "reporters item " + std::to_string(i + 1), p.sink, top.markOf("reporters"));
    if (!r.isMap()) return;
    ReporterEntry e;
    auto name = readName(r, p, RefKind::Reporter, "reporter");
    auto type = r.choice("type", types, true);
    const ReporterKind* kind = type ? p.kinds.reporter(*type) : nullptr;
    if (!kind) return;  // the unknown type is reported; its keys mean nothing yet
    const bool ok = kind->parse(r, p, e);
    if (!name || !ok || !e.options) return;
    e.name = *name;
    e.type = *type;
    p.config.reporters.push_back(std::move(e));
  });
}

}  // namespace bb::cfg
