#include "master/web/resource_query.hpp"

#include <algorithm>
#include <charconv>

namespace bb::web {

namespace {

const std::map<std::string, QueryFilter::Op>& operators() {
  static const std::map<std::string, QueryFilter::Op> m = {
      {"eq", QueryFilter::Op::Eq}, {"ne", QueryFilter::Op::Ne}, {"lt", QueryFilter::Op::Lt},
      {"le", QueryFilter::Op::Le}, {"gt", QueryFilter::Op::Gt}, {"ge", QueryFilter::Op::Ge},
      {"contains", QueryFilter::Op::Contains}};
  return m;
}

std::int64_t nonNegative(const std::string& name, const std::string& v) {
  std::int64_t n = -1;
  const auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || p != v.data() + v.size() || n < 0)
    throw QueryError(name + " must be a whole number of 0 or more, got '" + v + "'");
  return n;
}

std::vector<std::string> commaList(const std::string& v) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos <= v.size()) {
    auto c = v.find(',', pos);
    if (c == std::string::npos) c = v.size();
    if (c > pos) out.push_back(v.substr(pos, c - pos));
    pos = c + 1;
  }
  return out;
}

// `text` as a value of the same JSON type as `like`.
std::optional<Json> typed(const std::string& field, const std::string& text, const Json& like) {
  if (like.is_boolean()) {
    if (text == "true" || text == "1" || text == "yes" || text == "on") return Json(true);
    if (text == "false" || text == "0" || text == "no" || text == "off") return Json(false);
    throw QueryError(field + " is true or false, got '" + text + "'");
  }
  if (like.is_number_integer()) {
    std::int64_t n = 0;
    const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec != std::errc() || p != text.data() + text.size())
      throw QueryError(field + " is a whole number, got '" + text + "'");
    return Json(n);
  }
  if (like.is_number()) {
    try {
      std::size_t used = 0;
      const double d = std::stod(text, &used);
      if (used != text.size()) throw std::invalid_argument(text);
      return Json(d);
    } catch (const std::exception&) {
      throw QueryError(field + " is a number, got '" + text + "'");
    }
  }
  if (like.is_null()) return text == "null" ? std::optional<Json>(Json()) : std::nullopt;
  return Json(text);
}

bool contains(const Json& v, const std::string& text) {
  if (v.is_string()) return v.get_ref<const std::string&>().find(text) != std::string::npos;
  if (v.is_array())
    return std::any_of(v.begin(), v.end(), [&](const Json& e) {
      return (e.is_string() && e.get_ref<const std::string&>() == text) || (!e.is_string() && e.dump() == text);
    });
  return v.dump().find(text) != std::string::npos;
}

bool matches(const QueryFilter& f, const Json& item) {
  auto it = item.find(f.field);
  const Json& v = it == item.end() ? Json() : *it;
  auto test = [&](const std::string& text) {
    if (f.op == QueryFilter::Op::Contains) return contains(v, text);
    const auto want = typed(f.field, text, v);
    if (!want) return f.op == QueryFilter::Op::Ne;
    switch (f.op) {
      case QueryFilter::Op::Eq: return v == *want;
      case QueryFilter::Op::Ne: return v != *want;
      case QueryFilter::Op::Lt: return v < *want;
      case QueryFilter::Op::Le: return v <= *want;
      case QueryFilter::Op::Gt: return v > *want;
      case QueryFilter::Op::Ge: return v >= *want;
      default: return false;
    }
  };
  // Several values: eq/contains match any of them, ne none of them, the
  // comparisons all of them.
  if (f.op == QueryFilter::Op::Eq || f.op == QueryFilter::Op::Contains)
    return std::any_of(f.values.begin(), f.values.end(), test);
  return std::all_of(f.values.begin(), f.values.end(), test);
}

void requireField(const Json& sample, const std::string& field, const char* what) {
  if (!sample.contains(field)) {
    std::string known;
    for (const auto& [k, v] : sample.items()) known += (known.empty() ? "" : ", ") + k;
    throw QueryError(std::string(what) + ": no field '" + field + "' (fields: " + known + ")");
  }
}

}  // namespace

ResourceQuery ResourceQuery::parse(const std::multimap<std::string, std::string>& params,
                                   const std::set<std::string>& reserved) {
  ResourceQuery q;
  std::map<std::pair<std::string, QueryFilter::Op>, std::size_t> index;
  for (const auto& [name, value] : params) {
    if (reserved.count(name)) continue;
    if (name == "field") {
      for (auto& f : commaList(value)) q.fields.push_back(f);
    } else if (name == "order") {
      for (auto& o : commaList(value)) {
        const bool desc = o[0] == '-';
        const std::string f = desc ? o.substr(1) : o;
        if (f.empty()) throw QueryError("order needs a field name, got '" + o + "'");
        q.order.emplace_back(f, desc);
      }
    } else if (name == "limit") {
      q.limit = nonNegative("limit", value);
    } else if (name == "offset") {
      q.offset = nonNegative("offset", value);
    } else {
      QueryFilter f;
      f.field = name;
      if (const auto sep = name.rfind("__"); sep != std::string::npos && sep > 0) {
        const auto op = operators().find(name.substr(sep + 2));
        if (op == operators().end())
          throw QueryError("unknown filter operator in '" + name +
                           "' (use __eq, __ne, __lt, __le, __gt, __ge or __contains)");
        f.field = name.substr(0, sep);
        f.op = op->second;
      }
      const auto key = std::make_pair(f.field, f.op);
      if (auto it = index.find(key); it != index.end()) {
        q.filters[it->second].values.push_back(value);
      } else {
        f.values.push_back(value);
        index[key] = q.filters.size();
        q.filters.push_back(std::move(f));
      }
    }
  }
  return q;
}

std::optional<std::string> ResourceQuery::equalTo(const std::string& field) const {
  for (const auto& f : filters)
    if (f.field == field && f.op == QueryFilter::Op::Eq && f.values.size() == 1) return f.values[0];
  return std::nullopt;
}

ResourceQuery::Page ResourceQuery::apply(Json items) const {
  Page page;
  if (!items.is_array()) throw QueryError("not a list");
  if (!items.empty()) {
    const Json& sample = items[0];
    for (const auto& f : filters) requireField(sample, f.field, "filter");
    for (const auto& [f, desc] : order) requireField(sample, f, "order");
    for (const auto& f : fields) requireField(sample, f, "field");
  }
  Json kept = Json::array();
  for (auto& item : items) {
    bool ok = true;
    for (const auto& f : filters)
      if (!(ok = matches(f, item))) break;
    if (ok) kept.push_back(std::move(item));
  }
  if (!order.empty()) {
    auto& arr = kept.get_ref<Json::array_t&>();
    std::stable_sort(arr.begin(), arr.end(), [&](const Json& a, const Json& b) {
      for (const auto& [f, desc] : order) {
        const Json& x = a.contains(f) ? a.at(f) : Json();
        const Json& y = b.contains(f) ? b.at(f) : Json();
        if (x == y) continue;
        return desc ? y < x : x < y;
      }
      return false;
    });
  }
  page.total = static_cast<std::int64_t>(kept.size());
  const auto begin = std::min<std::int64_t>(offset, page.total);
  const auto end = limit ? std::min<std::int64_t>(begin + *limit, page.total) : page.total;
  for (auto i = begin; i < end; ++i) {
    Json& item = kept[static_cast<std::size_t>(i)];
    if (fields.empty()) {
      page.items.push_back(std::move(item));
    } else {
      Json trimmed = Json::object();
      for (const auto& f : fields)
        if (item.contains(f)) trimmed[f] = std::move(item[f]);
      page.items.push_back(std::move(trimmed));
    }
  }
  return page;
}

Json listReply(const std::string& name, const ResourceQuery::Page& page) {
  return Json{{name, page.items}, {"meta", Json{{"total", page.total}}}};
}

}  // namespace bb::web
