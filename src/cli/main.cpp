// tlspolicy-milter: see man/tlspolicy-milter.8.
#include <iostream>

#include "cli/cli.hpp"
#include "milter/daemon.hpp"

int main(int argc, char** argv) {
    return tlspolicy::run_cli(argc, argv, std::cout, std::cerr, tlspolicy::milter::run_daemon);
}
