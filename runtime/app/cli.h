// The appliance's command line (see `./app help`).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "container/caps.h"
#include "container/cgroup.h"

namespace havre::runtime {

struct Bind {
  std::string source;  // host path, absolute
  std::string target;  // path inside the container, absolute
  bool read_only = false;
};

/// Everything `run` needs besides the appliance itself.
struct RunOptions {
  std::vector<std::string> command;      // empty: the manifest's entrypoint + cmd
  bool command_replaces_cmd = false;     // `./app ARGS`: ARGS replace cmd, entrypoint stays (Docker)
  bool login_shell = false;              // `./app shell`
  std::vector<std::string> env;          // -e K=V, in order (after --env-file lines)
  std::vector<Bind> binds;               // -v
  std::string workdir;                   // -w
  std::string hostname;                  // --hostname
  bool read_only = false;                // --read-only: no writable layer
  std::string persist_dir;               // --persist: writable layer kept here
  bool net_none = false;                 // --net none
  std::optional<unsigned> uid, gid;      // --user UID[:GID]
  bool rootless = false;                 // --rootless (implied when not root): user namespace + FUSE
  CapSet caps = default_capabilities();  // after --cap-add / --cap-drop
  bool seccomp = true;                   // --seccomp unconfined: no filter
  ResourceLimits limits;                 // --memory, --cpus, --pids-limit, --cgroups
  std::string require_signature;         // --require-signature PUBKEY: checked before anything is mounted
};

struct Options {
  enum class Command { kRun, kInfo, kVerify, kExtract, kMount, kVersion, kHelp } command = Command::kRun;
  std::string directory;  // extract DIR, mount DIR
  bool json = false;      // info --json
  std::string key_file;   // verify --key PUBKEY
  std::string help_text;  // kHelp
  RunOptions run;
};

/// Parses argv. `passthrough` (the manifest's `args: passthrough`) sends every argument to the
/// entrypoint; the runtime's own commands are then reached only as `--havre-<command>` in argv[1].
/// Usage errors come back as an Error whose message is ready to print.
Result<Options> parse_args(int argc, char** argv, bool passthrough);

/// Parses one -v value "HOST:CTR[:ro|rw]"; relative HOST paths are taken from the current directory.
Result<Bind> parse_bind(const std::string& spec);
/// Parses --user "UID[:GID]" (numeric only: the runtime never looks up names).
Result<std::pair<unsigned, std::optional<unsigned>>> parse_user(const std::string& spec);

}  // namespace havre::runtime
