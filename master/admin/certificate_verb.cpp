// The master's TLS certificate on the command line: `create-master` makes
// one (createMasterCertificate) and `buildmaster fingerprint DIR` prints
// the fingerprint slaves and clients pin.
#include <filesystem>
#include <iostream>

#include <boost/program_options.hpp>

#include "common/tls_cert.hpp"
#include "master/admin/admin.hpp"

namespace bb::admin {

namespace fs = std::filesystem;
namespace po = boost::program_options;

namespace {

std::string inDir(const std::string& dir, const std::string& file) {
  const fs::path p(file);
  return p.is_absolute() ? p.string() : (fs::path(dir) / p).string();
}

// The master section of DIR/master.yaml when it exists and loads, else
// the defaults (a config can be written after create-master).
// nullopt (errors printed) when it does not load.
std::optional<MasterSection> sectionOf(const std::string& dir) {
  const std::string cfg = configPathFor(dir);
  if (!fs::exists(cfg)) return MasterSection{};
  auto loaded = loadChecked(cfg);
  if (!loaded) return std::nullopt;
  return loaded->master;
}

}  // namespace

int createMasterCertificate(const std::string& dir, const MasterSection& m) {
  if (!m.tls) {
    std::cout << "tls is false in the config: no certificate made; slaves and clients need "
                 "`tls: false` / --plaintext\n";
    return 0;
  }
  const std::string cert = inDir(dir, m.tlsCert), key = inDir(dir, m.tlsKey);
  const bool haveCert = fs::exists(cert), haveKey = fs::exists(key);
  try {
    if (haveCert != haveKey) {
      std::cerr << (haveCert ? cert : key) << " exists but " << (haveCert ? key : cert)
                << " does not; give the master both files (or remove the one left over to "
                   "make a new pair)\n";
      return 1;
    }
    if (!haveCert) {
      makeSelfSignedCertificate(cert, key, "buildmaster " + fs::path(dir).filename().string());
      std::cout << "made a self-signed TLS certificate " << cert << " (key " << key << ")\n";
    } else {
      std::cout << "keeping the TLS certificate " << cert << "\n";
    }
    std::cout << "master fingerprint: " << certificateFingerprint(readCertificateDer(cert))
              << "\n  (give it to slaves: buildslave create-slave ... --master-fingerprint FP;\n"
                 "   and to clients: --master-fingerprint FP or master_fingerprint in "
                 "~/.buildbot/options)\n";
  } catch (const TlsError& e) {
    std::cerr << "cannot make the TLS certificate: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

int fingerprintVerb(const std::vector<std::string>& args) {
  po::options_description o("options");
  auto p = parseMasterVerb("fingerprint", "fingerprint DIR", o, args, {dirArg()});
  if (!p) return 2;
  if (p->help) return 0;
  const std::string dir = p->vm["dir"].as<std::string>();
  auto m = sectionOf(dir);
  if (!m) return 1;
  if (!m->tls) {
    std::cerr << configPathFor(dir) << " says tls: false; this master has no certificate\n";
    return 1;
  }
  try {
    std::cout << certificateFingerprint(readCertificateDer(inDir(dir, m->tlsCert))) << "\n";
  } catch (const TlsError& e) {
    std::cerr << e.what() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace bb::admin
