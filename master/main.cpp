#include "master/master_cli.hpp"

int main(int argc, char** argv) { return bb::masterMain(argc, argv); }
