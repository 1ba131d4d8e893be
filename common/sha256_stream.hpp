#pragma once
// An incremental SHA-256 (OpenSSL EVP), for files and streams hashed chunk
// by chunk: artifacts on the master, uploads and downloads on the slave.
#include <string>
#include <string_view>

struct evp_md_ctx_st;

namespace bb {

class Sha256Stream {
 public:
  Sha256Stream();
  ~Sha256Stream();
  Sha256Stream(const Sha256Stream&) = delete;
  Sha256Stream& operator=(const Sha256Stream&) = delete;

  void update(std::string_view data);
  // The digest as 64 lowercase hex digits; the stream starts again empty.
  std::string hexDigest();

 private:
  evp_md_ctx_st* ctx_;
};

// The SHA-256 of a whole file (read in 64 KiB chunks), or "" if it cannot
// be read.
std::string sha256OfFile(const std::string& path);

}  // namespace bb
