// Loading and writing a buildslave's slave.yaml.
#include "config/slave_config.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "common/master_address.hpp"
#include "common/tls_cert.hpp"
#include "config/yaml_util.hpp"

namespace bb {

namespace {

std::string dirOf(const std::string& path) {
  std::size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

[[noreturn]] void fail(const std::string& what, const std::string& path, int err) {
  throw std::runtime_error("cannot write slave config '" + path + "': " + what + ": " +
                           std::strerror(err));
}

// masters: a list of "HOST:PORT" or {address: "HOST:PORT", fingerprint:
// "SHA256:..."}; not with `master:`.
void readMasters(const cfg::MapReader& r, cfg::ErrorSink& sink, SlaveConfig& c) {
  if (r.has("master")) {
    r.error(r.keyMarkOf("masters"), "give either master: (one master) or masters: (a list), not both");
    return;
  }
  const YAML::Node list = r.value("masters");
  if (!list.IsSequence() || list.size() == 0) {
    r.error(r.markOf("masters"), "masters must be a non-empty list of \"HOST:PORT\" or "
                                 "{address: \"HOST:PORT\", fingerprint: \"SHA256:...\"}, got " +
                                     cfg::describe(list));
    return;
  }
  for (std::size_t i = 0; i < list.size(); ++i) {
    const YAML::Node item = list[i];
    const std::string what = "masters[" + std::to_string(i) + "]";
    std::string address, fingerprint;
    YAML::Mark mark = item.Mark();
    if (item.IsScalar()) {
      address = item.as<std::string>();
    } else if (item.IsMap()) {
      cfg::MapReader m(item, "slave config " + what, sink, r.mark());
      m.allowKeys({"address", "fingerprint"});
      auto a = m.string("address", true);
      if (!a) continue;
      address = *a;
      mark = m.markOf("address");
      if (auto fp = m.string("fingerprint")) {
        std::string why;
        auto canon = normalizeFingerprint(*fp, why);
        if (!canon) {
          m.error(m.markOf("fingerprint"), "fingerprint '" + *fp + "' is not a SHA-256 fingerprint: " +
                                               why + " (`buildmaster fingerprint DIR` prints it)");
          continue;
        }
        fingerprint = *canon;
      }
    } else {
      r.error(mark, what + " must be \"HOST:PORT\" or a map {address, fingerprint}, got " +
                        cfg::describe(item));
      continue;
    }
    std::string why;
    auto hp = parseMasterAddress(address, why);
    if (!hp) {
      r.error(mark, what + " must be \"host:port\" (e.g. \"ci2.example.org:9989\"), got '" +
                        address + "': " + why);
      continue;
    }
    for (const SlaveMasterEntry& e : c.masters)
      if (e.host == hp->host && e.port == hp->port)
        r.error(mark, what + ": " + hp->toString() + " is listed twice");
    c.masters.push_back({hp->host, hp->port, fingerprint});
  }
  if (!c.masters.empty()) {
    c.masterHost = c.masters.front().host;
    c.masterPort = c.masters.front().port;
  }
}

}  // namespace

std::vector<SlaveMasterEntry> masterEntries(const SlaveConfig& c) {
  if (!c.masters.empty()) return c.masters;
  return {{c.masterHost, c.masterPort, {}}};
}

ConfigResult<SlaveConfig> parseSlaveConfig(const std::string& yaml, const std::string& name) {
  ConfigResult<SlaveConfig> result;
  cfg::ErrorSink sink(name);
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    sink.add(e.mark, "YAML syntax error: " + e.msg);
    result.errors = sink.sorted();
    return result;
  }
  SlaveConfig c;
  c.path = name;
  cfg::MapReader r(root, "slave config", sink, YAML::Mark::null_mark());
  if (r.isMap()) {
    r.allowKeys({"master", "masters", "name", "password", "basedir", "heartbeat_interval", "heartbeat_timeout",
                 "reconnect_min_ms", "reconnect_max_ms", "kill_grace", "max_frame", "log_max_mb",
                 "log_keep", "tls", "master_fingerprint", "ca_file"});
    if (auto m = r.string("master")) {
      std::string why;
      if (auto hp = parseMasterAddress(*m, why)) {
        c.masterHost = hp->host;
        c.masterPort = hp->port;
      } else {
        r.error(r.markOf("master"), "master must be \"host:port\" (e.g. \"ci.example.org:9989\" "
                                    "or \"[::1]:9989\"), got '" + *m + "': " + why);
      }
    }
    if (r.has("masters")) readMasters(r, sink, c);
    if (auto n = r.string("name", true)) {
      if (auto bad = cfg::checkName(*n)) {
        r.error(r.markOf("name"), *bad);
      } else {
        c.name = *n;
      }
    }
    if (auto pw = r.string("password", true)) {
      if (pw->empty()) {
        r.error(r.markOf("password"), "password is empty; give the slave's password");
      } else if (pw->rfind("scram-sha-256$", 0) == 0) {
        r.error(r.markOf("password"), "password is a SCRAM verifier; the slave needs the plain "
                                      "password (the verifier belongs in the master's config)");
      } else {
        c.password = *pw;
      }
    }
    if (auto b = r.string("basedir")) {
      if (b->empty()) {
        r.error(r.markOf("basedir"), "basedir is empty; remove it to use the slave directory");
      } else {
        c.basedir = *b;
      }
    }
    if (auto s = r.integer("heartbeat_interval", 1, 3600)) c.heartbeatInterval = std::chrono::seconds(*s);
    if (auto s = r.integer("heartbeat_timeout", 1, 86400)) c.heartbeatTimeout = std::chrono::seconds(*s);
    if (auto ms = r.integer("reconnect_min_ms", 1, 3'600'000)) c.reconnectMin = std::chrono::milliseconds(*ms);
    if (auto ms = r.integer("reconnect_max_ms", 1, 3'600'000)) c.reconnectMax = std::chrono::milliseconds(*ms);
    if (auto s = r.integer("kill_grace", 0, 3600)) c.killGraceSeconds = static_cast<int>(*s);
    if (auto mf = r.integer("max_frame", 1024, 1 << 30)) c.maxFrame = static_cast<std::uint32_t>(*mf);
    if (auto mb = r.integer("log_max_mb", 0, 100000)) c.log.maxMegabytes = static_cast<int>(*mb);
    if (auto k = r.integer("log_keep", 0, 1000)) c.log.keep = static_cast<int>(*k);
    if (auto on = r.boolean("tls")) c.tls = *on;
    if (auto fp = r.string("master_fingerprint")) {
      std::string why;
      if (auto canon = normalizeFingerprint(*fp, why))
        c.masterFingerprint = *canon;
      else
        r.error(r.markOf("master_fingerprint"),
                "master_fingerprint '" + *fp + "' is not a SHA-256 fingerprint: " + why +
                    " (`buildmaster fingerprint DIR` prints it)");
    }
    if (auto ca = r.string("ca_file")) {
      if (ca->empty())
        r.error(r.markOf("ca_file"), "ca_file is empty; give a PEM file of CA certificates");
      else
        c.caFile = *ca;
    }
    if (!c.tls && (r.has("master_fingerprint") || r.has("ca_file"))) {
      r.error(r.markOf(r.has("master_fingerprint") ? "master_fingerprint" : "ca_file"),
              "master_fingerprint/ca_file are given but tls is false; remove them or turn TLS on");
    } else if (!c.tls && std::any_of(c.masters.begin(), c.masters.end(),
                                     [](const SlaveMasterEntry& m) { return !m.fingerprint.empty(); })) {
      r.error(r.markOf("masters"), "masters: a fingerprint is given but tls is false; remove it or turn TLS on");
    } else if (c.tls && !r.has("master_fingerprint") && !r.has("ca_file")) {
      if (c.masters.empty()) {
        r.error(YAML::Mark::null_mark(),
                "the master's certificate is not pinned: add master_fingerprint: \"SHA256:...\" "
                "(`buildmaster fingerprint DIR` on the master prints it) or ca_file: FILE; or "
                "tls: false for plain TCP");
      }
      for (const SlaveMasterEntry& m : c.masters)
        if (m.fingerprint.empty())
          r.error(r.markOf("masters"),
                  "masters: the certificate of " + MasterAddress{m.host, m.port}.toString() +
                      " is not pinned: give it {address: ..., fingerprint: \"SHA256:...\"}, or "
                      "a master_fingerprint or ca_file for every master; or tls: false for plain TCP");
    }
    if (c.heartbeatTimeout <= c.heartbeatInterval) {
      r.error(r.has("heartbeat_timeout") ? r.markOf("heartbeat_timeout") : r.markOf("heartbeat_interval"),
              "heartbeat_timeout (" + std::to_string(c.heartbeatTimeout.count()) +
                  ") must be greater than heartbeat_interval (" +
                  std::to_string(c.heartbeatInterval.count()) + ")");
    }
    if (c.reconnectMax < c.reconnectMin) {
      r.error(r.has("reconnect_max_ms") ? r.markOf("reconnect_max_ms") : r.markOf("reconnect_min_ms"),
              "reconnect_max_ms (" + std::to_string(c.reconnectMax.count()) +
                  ") must not be less than reconnect_min_ms (" +
                  std::to_string(c.reconnectMin.count()) + ")");
    }
  }
  result.errors = sink.sorted();
  if (result.errors.empty()) result.config = std::move(c);
  return result;
}

ConfigResult<SlaveConfig> loadSlaveConfig(const std::string& path) {
  ConfigResult<SlaveConfig> result;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    int err = errno;
    result.errors.push_back(ConfigError{path, 0, 0,
                                        std::string("cannot open the slave config: ") +
                                            std::strerror(err) +
                                            " (create one with `buildslave create-slave`)"});
    return result;
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    result.errors.push_back(ConfigError{path, 0, 0, "cannot read the slave config"});
    return result;
  }
  result = parseSlaveConfig(text.str(), path);
  // Builder directories default to the directory holding slave.yaml.
  if (result.config && result.config->basedir.empty()) result.config->basedir = dirOf(path);
  // So is a relative ca_file.
  if (result.config && !result.config->caFile.empty() && result.config->caFile[0] != '/')
    result.config->caFile = dirOf(path) + "/" + result.config->caFile;
  return result;
}

void writeSlaveConfig(const SlaveConfig& c, const std::string& path) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  if (c.masters.empty()) {
    out << YAML::Key << "master" << YAML::Value << YAML::DoubleQuoted
        << MasterAddress{c.masterHost, c.masterPort}.toString();
  } else {
    out << YAML::Key << "masters" << YAML::Value << YAML::BeginSeq;
    for (const SlaveMasterEntry& m : c.masters) {
      out << YAML::Flow << YAML::BeginMap << YAML::Key << "address" << YAML::Value << YAML::DoubleQuoted
          << MasterAddress{m.host, m.port}.toString();
      if (!m.fingerprint.empty())
        out << YAML::Key << "fingerprint" << YAML::Value << YAML::DoubleQuoted << m.fingerprint;
      out << YAML::EndMap;
    }
    out << YAML::EndSeq;
  }
  out << YAML::Key << "name" << YAML::Value << c.name;
  out << YAML::Key << "password" << YAML::Value << YAML::DoubleQuoted << c.password;
  if (!c.basedir.empty()) out << YAML::Key << "basedir" << YAML::Value << c.basedir;
  out << YAML::Key << "heartbeat_interval" << YAML::Value << c.heartbeatInterval.count();
  out << YAML::Key << "heartbeat_timeout" << YAML::Value << c.heartbeatTimeout.count();
  out << YAML::Key << "reconnect_min_ms" << YAML::Value << c.reconnectMin.count();
  out << YAML::Key << "reconnect_max_ms" << YAML::Value << c.reconnectMax.count();
  out << YAML::Key << "kill_grace" << YAML::Value << c.killGraceSeconds;
  out << YAML::Key << "max_frame" << YAML::Value << c.maxFrame;
  out << YAML::Key << "log_max_mb" << YAML::Value << c.log.maxMegabytes;
  out << YAML::Key << "log_keep" << YAML::Value << c.log.keep;
  if (!c.tls) out << YAML::Key << "tls" << YAML::Value << false;
  if (!c.masterFingerprint.empty())
    out << YAML::Key << "master_fingerprint" << YAML::Value << YAML::DoubleQuoted << c.masterFingerprint;
  if (!c.caFile.empty()) out << YAML::Key << "ca_file" << YAML::Value << c.caFile;
  out << YAML::EndMap;
  if (!out.good()) throw std::runtime_error("cannot write slave config: " + out.GetLastError());
  std::string text = std::string("# buildslave configuration; see docs/configuration.md\n") +
                     out.c_str() + "\n";

  // Write a temporary file and rename it over the target, so a crash never
  // leaves a half-written config; 0600 because it holds the password.
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) fail("open " + tmp, path, errno);
  auto abandon = [&](const std::string& what) {
    int err = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    fail(what, path, err);
  };
  // The file may have existed with a wider mode; open() does not change it.
  if (::fchmod(fd, 0600) != 0) abandon("fchmod");
  std::size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      abandon("write");
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) abandon("fsync");
  if (::close(fd) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    fail("close", path, err);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    fail("rename", path, err);
  }
}

}  // namespace bb
