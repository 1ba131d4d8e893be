#include "common/tls_context.hpp"

#include "common/tls_context_impl.hpp"

namespace bb {

namespace ssl = boost::asio::ssl;

TlsContext::TlsContext(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TlsContext::~TlsContext() = default;

bool TlsContext::isServer() const { return impl_->server; }
const std::string& TlsContext::fingerprint() const { return impl_->fingerprint; }
const std::string& TlsContext::caFile() const { return impl_->caFile; }
const std::string& TlsContext::serverEndPoint() const { return impl_->endPoint; }

namespace {
// TLS 1.2 and 1.3 only; no compression, no renegotiation.
void restrict(ssl::context& ctx) {
  ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                  ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                  ssl::context::no_compression);
}
}  // namespace

std::shared_ptr<TlsContext> TlsContext::forServer(const std::string& certFile,
                                                  const std::string& keyFile) {
  auto im = std::make_unique<Impl>(ssl::context::tls_server);
  im->server = true;
  restrict(im->ctx);
  const std::string der = readCertificateDer(certFile);  // names the file on failure
  boost::system::error_code ec;
  im->ctx.use_certificate_chain_file(certFile, ec);
  if (ec) throw TlsError("cannot use the certificate " + certFile + ": " + ec.message());
  im->ctx.use_private_key_file(keyFile, ssl::context::pem, ec);
  if (ec) throw TlsError("cannot use the private key " + keyFile + ": " + ec.message());
  if (SSL_CTX_check_private_key(im->ctx.native_handle()) != 1)
    throw TlsError("the private key " + keyFile + " does not belong to the certificate " + certFile);
  im->fingerprint = certificateFingerprint(der);
  im->endPoint = tlsServerEndPoint(der);
  return std::make_shared<TlsContext>(std::move(im));
}

std::shared_ptr<TlsContext> TlsContext::forClient(const std::string& fingerprint,
                                                  const std::string& caFile) {
  if (fingerprint.empty() && caFile.empty())
    throw TlsError("TLS needs the master's fingerprint or a CA file to trust it");
  auto im = std::make_unique<Impl>(ssl::context::tls_client);
  restrict(im->ctx);
  im->fingerprint = fingerprint;
  im->caFile = caFile;
  if (!caFile.empty()) {
    boost::system::error_code ec;
    im->ctx.load_verify_file(caFile, ec);
    if (ec) throw TlsError("cannot load the CA file " + caFile + ": " + ec.message());
    im->ctx.set_verify_mode(ssl::verify_peer);
  } else {
    // Pinned: the chain is not checked (a self-signed certificate has
    // none); the certificate itself is compared after the handshake.
    im->ctx.set_verify_mode(ssl::verify_none);
  }
  return std::make_shared<TlsContext>(std::move(im));
}

}  // namespace bb
