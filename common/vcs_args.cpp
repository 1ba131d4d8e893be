#include "common/vcs_args.hpp"

#include "common/message.hpp"

namespace bb::vcs {

void checkArgument(const std::string& what, const std::string& value) {
  if (value.empty()) return;
  if (value[0] == '-')
    throw ProtocolError("bad " + what + " '" + value +
                        "': it starts with '-' and would be read as an option");
  for (unsigned char c : value)
    if (c < 0x20 || c == 0x7f)
      throw ProtocolError("bad " + what + ": it contains a control character");
}

void checkRepoUrl(const std::string& what, const std::string& url) {
  checkArgument(what, url);
  if (url.rfind("ext::", 0) == 0 || url.rfind("fd::", 0) == 0)
    throw ProtocolError("bad " + what + " '" + url +
                        "': remote-helper URLs that run commands are refused");
  std::string rest;
  if (auto p = url.find("://"); p != std::string::npos) {
    rest = url.substr(p + 3);
  } else if (auto colon = url.find(':'); colon != std::string::npos &&
                                         url.find('/') > colon) {
    rest = url.substr(0, colon);  // scp-like user@host:path
  } else {
    return;  // a local path
  }
  std::string authority = rest.substr(0, rest.find('/'));
  std::string host = authority.substr(authority.rfind('@') == std::string::npos
                                          ? 0
                                          : authority.rfind('@') + 1);
  if ((!host.empty() && host[0] == '-') || (!authority.empty() && authority[0] == '-'))
    throw ProtocolError("bad " + what + " '" + url +
                        "': its host starts with '-' and ssh would read it as an option");
}

void checkBranchPath(const std::string& what, const std::string& branch) {
  checkArgument(what, branch);
  if (!branch.empty() && branch[0] == '/')
    throw ProtocolError("bad " + what + " '" + branch + "': it must be relative to the repository URL");
  std::size_t s = 0;
  while (s <= branch.size()) {
    std::size_t e = branch.find('/', s);
    if (e == std::string::npos) e = branch.size();
    if (branch.compare(s, e - s, "..") == 0 && e - s == 2)
      throw ProtocolError("bad " + what + " '" + branch + "': '..' would leave the repository URL");
    s = e + 1;
  }
}

}  // namespace bb::vcs
