#include "common/daemon.hpp"
#include "master/master_cli.hpp"

int main(int argc, char** argv) {
  bb::keepFreedHeap();
  return bb::masterMain(argc, argv);
}
