#pragma once
// The TLS settings of one side of a connection, made once and shared by
// every connection that uses them (ConnectionOptions::tls).
//
//  - A server context holds the master's certificate and key; making one
//    checks that both files load and belong together (TlsError naming the
//    file otherwise).
//  - A client context says how to trust the master: a pinned certificate
//    fingerprint (common/tls_cert.hpp), a CA file whose chain must verify
//    for the host name connected to, or both (both must then hold).
// The Asio SSL context inside is reached only by common/connection.cpp
// (common/tls_context_impl.hpp), so Asio stays out of this header.
#include <memory>
#include <string>

#include "common/tls_cert.hpp"

namespace bb {

class TlsContext {
 public:
  // Throws TlsError naming the file that is missing or unusable.
  static std::shared_ptr<TlsContext> forServer(const std::string& certFile,
                                               const std::string& keyFile);
  // `fingerprint` in the canonical form (normalizeFingerprint) or empty;
  // `caFile` a PEM file or empty; at least one of them is given.
  static std::shared_ptr<TlsContext> forClient(const std::string& fingerprint,
                                               const std::string& caFile);
  ~TlsContext();

  bool isServer() const;
  // Client: the pinned fingerprint ("" if none). Server: its own.
  const std::string& fingerprint() const;
  const std::string& caFile() const;
  // Server: the tls-server-end-point binding of its own certificate.
  const std::string& serverEndPoint() const;

  struct Impl;
  Impl& impl() const { return *impl_; }
  explicit TlsContext(std::unique_ptr<Impl> impl);

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace bb
