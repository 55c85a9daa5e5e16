// The stub's hidden entry for havre-pack's `run:` steps:
//   havre-runtime --havre-build-root DIR [--hostname NAME] [--env K=V]... -- COMMAND [ARG]...
// runs COMMAND in a container whose root is the host directory DIR (read-write, as it is), with the
// isolation `./app run` gives: host network, root in the container, Docker's default capabilities
// and seccomp filter. stdio is inherited; the exit status is the command's (125: setup failed).
// havre-pack execs the stub it writes into the appliance, so it never links the container code.
#pragma once

namespace havre::runtime {

inline constexpr const char* kBuildRootFlag = "--havre-build-root";

/// Parses the entry's arguments (argv[1] is kBuildRootFlag) and runs the command. Returns the exit
/// status for main(); errors are printed once.
int build_root_main(int argc, char** argv);

}  // namespace havre::runtime
