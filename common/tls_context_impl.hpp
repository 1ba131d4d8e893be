#pragma once
// TlsContext's inside, for common/tls_context.cpp and common/connection.cpp
// only: it brings in Asio's SSL headers.
#include <boost/asio/ssl/context.hpp>

#include "common/tls_context.hpp"

namespace bb {

struct TlsContext::Impl {
  explicit Impl(boost::asio::ssl::context::method m) : ctx(m) {}
  boost::asio::ssl::context ctx;
  bool server = false;
  std::string fingerprint;
  std::string caFile;
  std::string endPoint;
};

}  // namespace bb
