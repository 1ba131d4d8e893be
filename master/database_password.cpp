#include "master/database_password.hpp"

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "master/db/database.hpp"

namespace bb {

namespace fs = std::filesystem;

void useDatabasePassword(const std::string& dir, const MasterSection& master) {
  if (master.databasePasswordFile.empty()) return;
  fs::path p = master.databasePasswordFile;
  if (!p.is_absolute()) p = fs::path(dir) / p;
  std::error_code ec;
  const auto st = fs::status(p, ec);
  if (ec || !fs::is_regular_file(st))
    throw std::runtime_error("database_password_file " + p.string() + " cannot be read" +
                             (ec ? ": " + ec.message() : std::string(": not a file")));
  // As libpq treats ~/.pgpass: a password others may read is refused.
  if ((st.permissions() & (fs::perms::group_all | fs::perms::others_all)) != fs::perms::none)
    throw std::runtime_error("database_password_file " + p.string() +
                             " is readable by group or others; chmod 600 it");
  std::ifstream in(p);
  std::string password;
  if (!in || !std::getline(in, password))
    throw std::runtime_error("database_password_file " + p.string() + " cannot be read");
  if (!password.empty() && password.back() == '\r') password.pop_back();
  if (password.empty())
    throw std::runtime_error("database_password_file " + p.string() + " is empty; its first line is the password");
  db::setServerPassword(std::move(password));
}

}  // namespace bb
