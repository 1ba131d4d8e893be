#pragma once
// `buildmaster VERB ...`: the admin's command line. Returns the exit code:
// 0 ok, 1 the operation failed (with one line saying what to fix), 2 usage.
namespace bb {
int masterMain(int argc, char** argv);
}
