#pragma once
// `buildslave VERB ...`: create-slave, start, stop, restart. Returns the
// exit code: 0 ok, 1 the operation failed (one line saying what to fix),
// 2 usage error.
namespace bb {

int slaveMain(int argc, char** argv);

}  // namespace bb
