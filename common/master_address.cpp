#include "common/master_address.hpp"

namespace bb {

std::string MasterAddress::toString() const {
  const std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return h + ":" + std::to_string(port);
}

std::optional<MasterAddress> parseMasterAddress(const std::string& text, std::string& error) {
  std::string host;
  std::string portText;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      error = "expected [IPV6]:PORT";
      return std::nullopt;
    }
    host = text.substr(1, close - 1);
    portText = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos) {
      error = "expected HOST:PORT";
      return std::nullopt;
    }
    if (text.find(':') != colon) {
      error = "an IPv6 address goes in brackets: [ADDRESS]:PORT";
      return std::nullopt;
    }
    host = text.substr(0, colon);
    portText = text.substr(colon + 1);
  }
  if (host.empty()) {
    error = "the host is empty";
    return std::nullopt;
  }
  if (portText.empty() || portText.size() > 5 ||
      portText.find_first_not_of("0123456789") != std::string::npos) {
    error = "the port must be a number";
    return std::nullopt;
  }
  const long port = std::stol(portText);
  if (port < 1 || port > 65535) {
    error = "the port must be in 1..65535";
    return std::nullopt;
  }
  return MasterAddress{host, static_cast<std::uint16_t>(port)};
}

}  // namespace bb
