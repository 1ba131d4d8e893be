#pragma once
// The PostgreSQL password from `master.database_password_file`: never in
// the config itself, never in a message or a log line.
#include <string>

#include "config/master_config.hpp"

namespace bb {

// Reads the file `master.database_password_file` names (relative to dir)
// and gives its first line to every PostgreSQL connection opened after
// (db::setServerPassword); nothing without that key. Throws
// std::runtime_error for a file that is missing, empty, or readable by
// group or others.
void useDatabasePassword(const std::string& dir, const MasterSection& master);

}  // namespace bb
