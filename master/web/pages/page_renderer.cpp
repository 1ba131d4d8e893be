#include "master/web/pages/page_renderer.hpp"

#include <kainjow/mustache.hpp>
#include <stdexcept>

namespace bb::web {

namespace mu = kainjow::mustache;

namespace {

// JSON as mustache data. Numbers become their text, null becomes false (a
// section over it shows nothing); a boolean stays a boolean.
mu::data toData(const Json& j) {
  switch (j.type()) {
    case Json::value_t::object: {
      mu::data d{mu::data::type::object};
      for (auto it = j.begin(); it != j.end(); ++it) d.set(it.key(), toData(it.value()));
      return d;
    }
    case Json::value_t::array: {
      mu::data d{mu::data::type::list};
      for (const auto& v : j) d.push_back(toData(v));
      return d;
    }
    case Json::value_t::string: return mu::data{j.get<std::string>()};
    case Json::value_t::boolean: return mu::data{j.get<bool>()};
    case Json::value_t::null: return mu::data{false};
    case Json::value_t::number_integer: return mu::data{std::to_string(j.get<std::int64_t>())};
    case Json::value_t::number_unsigned: return mu::data{std::to_string(j.get<std::uint64_t>())};
    default: return mu::data{j.dump()};
  }
}

std::string templateText(const std::string& name) {
  const std::string_view t = embeddedAsset(name + ".mustache");
  if (t.data() == nullptr) throw std::runtime_error("no page template named '" + name + "'");
  return std::string(t);
}

const char* const kPartials[] = {"change_table", "request_table", "force"};

std::string render(const std::string& name, mu::data& data) {
  mu::mustache tmpl{templateText(name)};
  if (!tmpl.is_valid()) throw std::runtime_error("template " + name + ": " + tmpl.error_message());
  std::string out = tmpl.render(data);
  if (!tmpl.is_valid()) throw std::runtime_error("template " + name + ": " + tmpl.error_message());
  return out;
}

}  // namespace

std::string renderPage(const std::string& name, const std::string& pageTitle, const Json& context,
                       const Site& site) {
  mu::data data = toData(context.is_object() ? context : Json::object());
  data.set("base", site.base);
  for (const char* p : kPartials) {
    const std::string text = templateText(p);
    data.set(p, mu::partial([text] { return text; }));
  }
  const std::string body = render(name, data);
  mu::data layout{mu::data::type::object};
  layout.set("base", site.base);
  layout.set("site_title", site.title);
  layout.set("page_title", pageTitle);
  layout.set("body", body);
  if (!site.user.empty()) layout.set("user", site.user);
  return render("layout", layout);
}

std::string_view staticFile(std::string_view name) {
  if (name.find(".mustache") != std::string_view::npos) return {};
  return embeddedAsset(name);
}

}  // namespace bb::web
