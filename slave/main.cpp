#include "slave/slave_cli.hpp"

int main(int argc, char** argv) { return bb::slaveMain(argc, argv); }
