#include "common/verb_args.hpp"

namespace bb {

namespace po = boost::program_options;

namespace {

// The user-facing name of option `key`: "DIR" for a positional, "--key"
// otherwise.
std::string shownName(const VerbSpec& spec, const std::string& key) {
  for (const auto& p : spec.positionals)
    if (p.key == key) return p.name;
  return "--" + key;
}

}  // namespace

std::optional<ParsedVerb> parseVerb(const VerbSpec& spec, po::options_description options,
                                    const std::vector<std::string>& args, std::ostream& out,
                                    std::ostream& err) {
  options.add_options()("help,h", "show this help");
  // Positionals are options too, for the parser, but hidden from --help
  // (which lists them by their names instead).
  po::options_description hidden;
  po::positional_options_description pos;
  for (const auto& p : spec.positionals) {
    hidden.add_options()(p.key.c_str(), po::value<std::string>());
    pos.add(p.key.c_str(), 1);
  }
  po::options_description all;
  all.add(options).add(hidden);
  const std::string usage = spec.program + " " + spec.synopsis;
  ParsedVerb parsed;
  try {
    po::store(po::command_line_parser(args).options(all).positional(pos).run(), parsed.vm);
    if (parsed.vm.count("help")) {
      out << "usage: " << usage << "\n";
      if (!spec.positionals.empty()) {
        out << "arguments:\n";
        for (const auto& p : spec.positionals)
          out << "  " << p.name << std::string(p.name.size() < 20 ? 20 - p.name.size() : 1, ' ')
              << p.help << (p.required ? "" : " (optional)") << "\n";
      }
      out << options;
      parsed.help = true;
      return parsed;
    }
    po::notify(parsed.vm);
    for (const auto& p : spec.positionals)
      if (p.required && !parsed.vm.count(p.key))
        throw po::error(p.name + " is missing");
  } catch (const po::too_many_positional_options_error&) {
    err << spec.program << " " << spec.verb << ": too many arguments (usage: " << usage << ")\n";
    return std::nullopt;
  } catch (const po::error_with_option_name& e) {
    // Reword boost's messages that would name a positional as "--dir".
    std::string text = e.what();
    const std::string key = e.get_option_name();
    const std::string bare = key.rfind("--", 0) == 0 ? key.substr(2) : key;
    for (const auto& p : spec.positionals) {
      if (p.key != bare) continue;
      text = shownName(spec, bare) + ": " + text;
      for (auto at = text.find("'" + key + "'"); at != std::string::npos;
           at = text.find("'" + key + "'"))
        text.replace(at, key.size() + 2, p.name);
    }
    err << spec.program << " " << spec.verb << ": " << text << " (usage: " << usage << ")\n";
    return std::nullopt;
  } catch (const po::error& e) {
    err << spec.program << " " << spec.verb << ": " << e.what() << " (usage: " << usage << ")\n";
    return std::nullopt;
  }
  return parsed;
}

}  // namespace bb
