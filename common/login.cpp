#include "common/login.hpp"

#include <algorithm>

namespace bb {

namespace {

constexpr const char* kRoleSlave = "slave";
constexpr const char* kRoleClient = "client";

template <typename Kind>
std::string_view kindName(Kind k) {
  switch (k) {
    case Kind::Send: return "Send";
    case Kind::Done: return "Done";
    case Kind::Failed: return "Failed";
    case Kind::Wait: return "Wait";
  }
  return "Unknown";
}

std::string errorText(const Message& m) {
  // Tolerant: this only feeds a log line, and a bad Error must not throw.
  auto field = [&](const char* name) {
    auto it = m.body.find(name);
    return it != m.body.end() && it->is_string() ? peerText(it->get<std::string>()) : std::string("?");
  };
  return field("code") + ": " + field("message");
}

ClientLogin::Step clientFailed(std::string error) {
  ClientLogin::Step s;
  s.kind = ClientLogin::Step::Failed;
  s.error = std::move(error);
  return s;
}

}  // namespace

std::string_view toString(ClientLogin::Step::Kind k) { return kindName(k); }
std::string_view toString(ServerLogin::Step::Kind k) { return kindName(k); }

Message makeErrorMessage(const std::string& code, const std::string& message) {
  Message m;
  m.type = MsgType::Error;
  m.body = Json{{"code", code}, {"message", message}};
  return m;
}

// ---- ClientLogin ----

ClientLogin::ClientLogin(std::string role, std::string name, std::string password,
                         std::string channelBinding)
    : role_(std::move(role)),
      name_(std::move(name)),
      scram_(name_, std::move(password), std::move(channelBinding)) {}

Message ClientLogin::hello() {
  if (state_ != State::Initial) throw std::logic_error("ClientLogin::hello() called twice");
  state_ = State::SentHello;
  Message m;
  m.type = MsgType::Hello;
  m.body = Json{{"protocol", kProtocolName},
                {"versions", Json::array({kProtocolVersion})},
                {"role", role_},
                {"name", name_},
                {"scram", scram_.clientFirst()}};
  return m;
}

ClientLogin::Step ClientLogin::onMessage(const Message& m) {
  if (m.type == MsgType::Heartbeat && state_ != State::Finished) return Step{};
  const State state = state_;
  state_ = State::Finished;  // every path below but a successful Send ends the login
  if (state == State::Initial) return clientFailed("ClientLogin: message before hello()");
  if (state == State::Finished)
    return clientFailed("unexpected " + std::string(toString(m.type)) + " after login ended");
  if (m.type == MsgType::Error) return clientFailed(errorText(m));

  if (state == State::SentHello && m.type == MsgType::AuthChallenge) {
    try {
      const std::int64_t version = getInt(m.body, "version");
      if (version != kProtocolVersion)
        return clientFailed("master chose protocol version " + std::to_string(version) +
                            ", which we did not offer");
      Step s;
      s.kind = Step::Send;
      s.hasReply = true;
      s.reply.type = MsgType::AuthProof;
      s.reply.body = Json{{"scram", scram_.clientFinal(getString(m.body, "scram"))}};
      state_ = State::SentProof;
      return s;
    } catch (const ProtocolError& e) {
      return clientFailed(std::string("malformed AuthChallenge: ") + e.what());
    } catch (const ScramError& e) {
      return clientFailed(std::string("bad AuthChallenge: ") + e.what());
    }
  }
  if (state == State::SentProof && m.type == MsgType::Welcome) {
    std::string serverFinal;
    try {
      serverFinal = getString(m.body, "scram");
    } catch (const ProtocolError& e) {
      return clientFailed(std::string("malformed Welcome: ") + e.what());
    }
    if (!scram_.verifyServerFinal(serverFinal))
      return clientFailed("master's signature is wrong: it does not know our password");
    Step s;
    s.kind = Step::Done;
    s.welcome = m.body;
    return s;
  }
  return clientFailed("unexpected " + std::string(toString(m.type)) + " during login");
}

// ---- ServerLogin ----

ServerLogin::ServerLogin(Lookup lookup, Json welcomeExtras, std::string channelBinding)
    : lookup_(std::move(lookup)),
      welcomeExtras_(std::move(welcomeExtras)),
      channelBinding_(std::move(channelBinding)) {
  if (!welcomeExtras_.is_object()) welcomeExtras_ = Json::object();
}

ServerLogin::Step ServerLogin::fail(const std::string& code, const std::string& message) {
  state_ = State::Finished;
  Step s;
  s.kind = Step::Failed;
  s.hasReply = true;
  s.reply = makeErrorMessage(code, message);
  s.error = code + ": " + message;
  s.role = role_;
  s.name = name_;
  return s;
}

ServerLogin::Step ServerLogin::onMessage(const Message& m) {
  if (state_ == State::Finished) {
    Step s;
    s.kind = Step::Failed;
    s.error = "unexpected " + std::string(toString(m.type)) + " after login ended";
    s.role = role_;
    s.name = name_;
    return s;
  }
  if (m.type == MsgType::Heartbeat) return Step{};
  if (m.type == MsgType::Error) {
    Step s = fail(kErrProtocol, "");
    s.hasReply = false;  // the peer is closing; answering its Error is pointless
    s.error = "peer gave up the login: " + errorText(m);
    return s;
  }
  if (state_ == State::WaitHello && m.type == MsgType::Hello) return onHello(m);
  if (state_ == State::WaitProof && m.type == MsgType::AuthProof) return onProof(m);
  return fail(kErrProtocol, "expected " +
                                std::string(state_ == State::WaitHello ? "Hello" : "AuthProof") +
                                " during login, got " + std::string(toString(m.type)));
}

ServerLogin::Step ServerLogin::onHello(const Message& m) {
  std::string clientFirst;
  try {
    const std::string protocol = getString(m.body, "protocol");
    if (protocol != kProtocolName)
      return fail(kErrUnsupportedVersion, std::string("this master speaks protocol '") +
                                              kProtocolName + "'; the peer speaks '" +
                                              peerText(protocol, 40) + "'");
    const Json& versions = getArray(m.body, "versions");
    const bool ok = std::any_of(versions.begin(), versions.end(), [](const Json& v) {
      return v.is_number_integer() && v.get<std::int64_t>() == kProtocolVersion;
    });
    if (!ok)
      return fail(kErrUnsupportedVersion, "this master speaks protocol versions [" +
                                              std::to_string(kProtocolVersion) +
                                              "]; the peer offered " + peerText(versions.dump(), 100));
    role_ = getString(m.body, "role");
    name_ = getString(m.body, "name");
    clientFirst = getString(m.body, "scram");
  } catch (const ProtocolError& e) {
    return fail(kErrBadHello, std::string("malformed Hello: ") + e.what());
  }
  if (role_ != kRoleSlave && role_ != kRoleClient)
    return fail(kErrBadHello, "role must be 'slave' or 'client', not '" + peerText(role_, 40) + "'");
  if (name_.empty()) return fail(kErrBadHello, "name must not be empty");

  // The SCRAM user must be the name in the Hello, or a peer could log in
  // as one account and be registered under another.
  scram_.emplace([lookup = lookup_, role = role_, name = name_](
                     const std::string& user) -> std::optional<std::string> {
    if (user != name) return std::nullopt;
    return lookup(role, user);
  }, channelBinding_);
  if (!nonceSuffix_.empty()) scram_->setNonceSuffixForTesting(nonceSuffix_);
  std::string serverFirst;
  try {
    serverFirst = scram_->serverFirst(clientFirst);
  } catch (const ScramError& e) {
    return fail(kErrBadHello, std::string("bad SCRAM client-first-message: ") + e.what());
  }
  if (scram_->user() != name_)
    return fail(kErrBadHello, "SCRAM user '" + peerText(scram_->user()) +
                                  "' differs from the Hello name '" + peerText(name_) + "'");
  state_ = State::WaitProof;
  Step s;
  s.kind = Step::Send;
  s.hasReply = true;
  s.reply.type = MsgType::AuthChallenge;
  s.reply.body = Json{{"version", kProtocolVersion}, {"scram", serverFirst}};
  s.role = role_;
  s.name = name_;
  return s;
}

ServerLogin::Step ServerLogin::onProof(const Message& m) {
  std::optional<std::string> serverFinal;
  try {
    serverFinal = scram_->serverFinal(getString(m.body, "scram"));
  } catch (const ProtocolError& e) {
    return fail(kErrProtocol, std::string("malformed AuthProof: ") + e.what());
  } catch (const ScramError& e) {
    return fail(kErrProtocol, std::string("malformed AuthProof: ") + e.what());
  }
  if (!serverFinal)
    return fail(kErrAuthFailed, "authentication failed for " + role_ + " '" + peerText(name_) + "'");
  state_ = State::Finished;
  Step s;
  s.kind = Step::Done;
  s.hasReply = true;
  s.reply.type = MsgType::Welcome;
  s.reply.body = welcomeExtras_;
  s.reply.body["scram"] = *serverFinal;
  s.role = role_;
  s.name = name_;
  return s;
}

}  // namespace bb
