#include "app/cli.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <fstream>

namespace havre::runtime {
namespace {

namespace fs = std::filesystem;

constexpr const char* kDescription =
    "A havre appliance: a whole Linux userland in one executable file.\n\n"
    "  ./app [ARGS...]             run the default command (ARGS replace its arguments)\n"
    "  ./app run [OPTIONS] CMD...  run CMD inside the image\n"
    "  ./app shell [OPTIONS]       interactive login shell inside the image\n"
    "  ./app info [--json]         where the image is, and the manifest (no root, no mount)\n"
    "  ./app verify [--key PUB]    hash image and manifest against the footer, check the signature\n"
    "  ./app extract DIR           unpack the image into DIR (no root, no mount)\n"
    "  ./app mount DIR             mount the image read-only on DIR until interrupted\n"
    "  ./app version | --version | help\n\n"
    "Options of run and shell (./app run --help): -e K=V, --env-file F, -v HOST:CTR[:ro|rw], -w DIR,\n"
    "--hostname NAME, --read-only, --persist DIR, --net host|none, --user UID[:GID], --rootless,\n"
    "--cap-add CAP, --cap-drop CAP, --seccomp unconfined, --memory SIZE, --cpus N, --pids-limit N,\n"
    "--cgroups best-effort, --require-signature PUB (also $HAVRE_REQUIRE_SIGNATURE=PUB, for the\n"
    "default command too).\n"
    "Without root, runs use a user namespace and FUSE (HAVRE_FUSE_THREADS=N server threads);\n"
    "HAVRE_WARM_COPY=1 extracts the verified image into the cache after the run, and later runs\n"
    "of the same file start from that copy instead of mounting the image;\n"
    "HAVRE_DEBUG=1 traces the setup steps.\n\n"
    "Exit status: the command's own, 125 if havre failed, 126 if CMD is not executable,\n"
    "127 if CMD is not found, 128+N if CMD was killed by signal N. verify: 0 if everything checked\n"
    "is intact, 1 if not, 125 if it could not check (e.g. an unreadable key file).";

Result<unsigned> parse_id(const std::string& text, const std::string& what) {
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos || text.size() > 10)
    return error("--user: " + what + " '" + text + "' is not a number (names are not looked up)");
  unsigned long v = std::stoul(text);
  if (v > 0xfffffffeUL) return error("--user: " + what + " " + text + " is out of range");
  return static_cast<unsigned>(v);
}

// --env-file: KEY=VALUE lines; blank lines and lines starting with '#' are skipped (as Docker).
Status read_env_file(const std::string& path, std::vector<std::string>& env) {
  std::ifstream in(path);
  if (!in) return sys_error("--env-file " + path);
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.empty() || line[0] == '#') continue;
    if (line.find('=') == std::string::npos || line[0] == '=')
      return error("--env-file " + path + ":" + std::to_string(n) + ": expected KEY=VALUE");
    env.push_back(line);
  }
  return {};
}

struct RawRunOptions {  // what CLI11 fills in; finish_run_options() checks and converts it
  std::vector<std::string> env_files, volumes, cap_add, cap_drop;
  std::string user, net = "host", seccomp = "default";
  std::string memory, cpus, pids_limit, cgroups = "required";
};

void add_run_options(CLI::App* sub, RunOptions& run, RawRunOptions& raw) {
  std::vector<std::string>& env_files = raw.env_files;
  std::vector<std::string>& volumes = raw.volumes;
  std::string& user = raw.user;
  std::string& net = raw.net;
  sub->add_option("-e,--env", run.env, "Set an environment variable K=V (repeatable)")
      ->allow_extra_args(false);
  sub->add_option("--env-file", env_files, "Read K=V lines from a file")->allow_extra_args(false);
  sub->add_option("-v,--volume", volumes, "Bind HOST:CTR[:ro|rw] into the container (repeatable; HOST and CTR hold no colon)")
      ->allow_extra_args(false);
  sub->add_option("-w,--workdir", run.workdir, "Working directory inside the container");
  sub->add_option("--hostname", run.hostname, "Hostname inside the container");
  sub->add_flag("--read-only", run.read_only, "No writable layer: the image as it is");
  sub->add_option("--persist", run.persist_dir, "Keep the writable layer in this directory across runs");
  sub->add_option("--net", net, "host (default) or none (only loopback)")
      ->check(CLI::IsMember({"host", "none"}));
  sub->add_option("--user", user, "Run as UID[:GID] (numeric)");
  sub->add_flag(
      "--rootless", run.rootless,
      "Run in a user namespace with the image on FUSE, as without root (the default when not root)");
  sub->add_option("--cap-add", raw.cap_add, "Keep a capability beyond the default set (ALL: every one)")
      ->allow_extra_args(false);
  sub->add_option("--cap-drop", raw.cap_drop, "Drop a capability of the default set (ALL: every one)")
      ->allow_extra_args(false);
  sub->add_option("--seccomp", raw.seccomp, "default, or unconfined (no system call filter)")
      ->check(CLI::IsMember({"default", "unconfined"}));
  // An empty value is a mistake (an unset variable, `--memory ""`), not "no limit".
  const CLI::Validator non_empty([](std::string& v) { return v.empty() ? std::string("an empty value") : ""; },
                                 "NON-EMPTY");
  sub->add_option("--memory", raw.memory, "Limit memory and swap together (512m, 2g; binary units)")
      ->check(non_empty);
  sub->add_option("--cpus", raw.cpus, "Limit CPU time to this many CPUs (fractional: 0.5)")->check(non_empty);
  sub->add_option("--pids-limit", raw.pids_limit, "Limit the number of processes (the init included)")
      ->check(non_empty);
  sub->add_option("--cgroups", raw.cgroups,
                  "required (default): a limit that cannot be set is an error; best-effort: a warning")
      ->check(CLI::IsMember({"required", "best-effort"}));
  sub->add_option(
      "--require-signature", run.require_signature,
      "Refuse to run unless signed by this public key (.pub) and intact (hashes the whole image)");
}

Status finish_run_options(RunOptions& run, const RawRunOptions& raw) {
  const std::vector<std::string>& env_files = raw.env_files;
  const std::vector<std::string>& volumes = raw.volumes;
  const std::string& user = raw.user;
  const std::string& net = raw.net;
  auto caps = adjust_capabilities(default_capabilities(), raw.cap_add, raw.cap_drop);
  if (!caps) return caps.error();
  run.caps = *caps;
  run.seccomp = raw.seccomp != "unconfined";
  if (!raw.memory.empty()) {
    auto bytes = parse_memory_size(raw.memory);
    if (!bytes) return bytes.error();
    run.limits.memory_bytes = *bytes;
  }
  if (!raw.cpus.empty()) {
    auto cpus = parse_cpus(raw.cpus, static_cast<unsigned>(::sysconf(_SC_NPROCESSORS_ONLN)));
    if (!cpus) return cpus.error();
    run.limits.cpus = *cpus;
  }
  if (!raw.pids_limit.empty()) {
    auto pids = parse_pids_limit(raw.pids_limit);
    if (!pids) return pids.error();
    run.limits.pids = *pids;
  }
  run.limits.best_effort = raw.cgroups == "best-effort";
  std::vector<std::string> env;
  for (const std::string& f : env_files)
    if (auto ok = read_env_file(f, env); !ok) return ok;
  for (const std::string& kv : run.env) {
    if (kv.empty() || kv[0] == '=' || kv.find('=') == std::string::npos)
      return error("-e " + kv + ": expected K=V");
    env.push_back(kv);
  }
  run.env = std::move(env);
  for (const std::string& v : volumes) {
    auto bind = parse_bind(v);
    if (!bind) return bind.error();
    run.binds.push_back(*bind);
  }
  if (!user.empty()) {
    auto ids = parse_user(user);
    if (!ids) return ids.error();
    run.uid = ids->first;
    run.gid = ids->second.value_or(ids->first);
  }
  run.net_none = net == "none";
  if (!run.workdir.empty() && run.workdir[0] != '/') return error("-w " + run.workdir + ": must be absolute");
  if (run.read_only && !run.persist_dir.empty()) return error("--read-only and --persist exclude each other");
  if (!run.persist_dir.empty()) run.persist_dir = fs::absolute(run.persist_dir).lexically_normal().string();
  return {};
}

}  // namespace

Result<Bind> parse_bind(const std::string& spec) {
  // HOST:CONTAINER[:OPTIONS], as Docker splits it: paths hold no ':', OPTIONS is a comma list of ro
  // and rw. Anything else is refused by name -- never a mount at "/x:RO" that is writable.
  std::vector<std::string> parts{""};
  for (char c : spec) {
    if (c == ':')
      parts.emplace_back();
    else
      parts.back().push_back(c);
  }
  if (parts.size() < 2 || parts.size() > 3 || parts[0].empty() || parts[1].empty())
    return error("-v " + spec + ": expected HOST:CONTAINER[:ro|rw]");
  Bind b;
  if (parts.size() == 3) {
    std::vector<std::string> modes{""};
    for (char c : parts[2]) {
      if (c == ',')
        modes.emplace_back();
      else
        modes.back().push_back(c);
    }
    int seen = 0;
    for (const std::string& m : modes) {
      if (m != "ro" && m != "rw") return error("-v " + spec + ": unknown option '" + m + "' (ro or rw)");
      b.read_only = m == "ro";
      ++seen;
    }
    if (seen > 1) return error("-v " + spec + ": give one of ro and rw");
  }
  b.source = fs::absolute(parts[0]).lexically_normal().string();
  b.target = parts[1];
  if (b.target[0] != '/') return error("-v " + spec + ": the container path must be absolute");
  b.target = fs::path(b.target).lexically_normal().string();
  if (b.target == "/") return error("-v " + spec + ": cannot bind over the container's root");
  return b;
}

Result<std::pair<unsigned, std::optional<unsigned>>> parse_user(const std::string& spec) {
  const size_t colon = spec.find(':');
  auto uid = parse_id(spec.substr(0, colon), "uid");
  if (!uid) return uid.error();
  if (colon == std::string::npos) return std::pair{*uid, std::optional<unsigned>{}};
  auto gid = parse_id(spec.substr(colon + 1), "gid");
  if (!gid) return gid.error();
  return std::pair{*uid, std::optional<unsigned>{*gid}};
}

Result<Options> parse_args(int argc, char** argv, bool passthrough) {
  Options opts;
  std::vector<std::string> args(argv + 1, argv + argc);
  if (passthrough) {
    // Everything is the entrypoint's, unless argv[1] is --havre-<command>.
    if (args.empty() || args[0].rfind("--havre-", 0) != 0) {
      opts.run.command = args;
      opts.run.command_replaces_cmd = !args.empty();
      return opts;
    }
    args[0] = args[0].substr(8);
  }

  CLI::App app{kDescription};
  app.name(argc > 0 ? fs::path(argv[0]).filename().string() : "app");
  app.set_help_flag("-h,--help", "Print this help");
  app.prefix_command();  // `./app ARGS`: the arguments belong to the default command

  RawRunOptions raw;
  CLI::App* run = app.add_subcommand("run", "Run a command inside the image");
  add_run_options(run, opts.run, raw);
  run->prefix_command();  // the first non-option starts CMD; the rest is CMD's
  CLI::App* shell = app.add_subcommand("shell", "Interactive login shell inside the image");
  add_run_options(shell, opts.run, raw);
  CLI::App* info = app.add_subcommand("info", "Print where the image is and the manifest");
  info->add_flag("--json", opts.json, "Machine-readable output");
  CLI::App* verify = app.add_subcommand(
      "verify", "Hash the image and manifest against the footer and check the signature (no root, no mount)");
  verify->add_option("--key", opts.key_file, "Require a valid signature by this public key (.pub file)");
  CLI::App* extract =
      app.add_subcommand("extract", "Unpack the image into a new directory (no root, no mount)");
  extract->add_option("directory", opts.directory, "Directory to create")->required();
  CLI::App* mount = app.add_subcommand("mount", "Mount the image read-only on a directory until interrupted");
  mount->add_option("directory", opts.directory, "An existing directory")->required();
  CLI::App* version = app.add_subcommand("version", "Print the runtime's version");
  CLI::App* help = app.add_subcommand("help", "Print this help");
  app.require_subcommand(0, 1);
  bool version_flag = false;
  app.add_flag("--version", version_flag, "Print the runtime's version");


  // After parsing, CLI11's help() describes the last subcommand; ours is the appliance's own.
  const std::string help_text = app.help();
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    opts.command = Options::Command::kHelp;
    opts.help_text = help_text;
    return opts;
  } catch (const CLI::ParseError& e) {
    return error(e.what());
  }
  // The top level takes unknown words for the default command (prefix_command), and a subcommand's
  // unknown words fall through to it; only run's CMD and the default command may have them:
  // `info --jsonx` or `shell extra` is a mistake.
  for (CLI::App* sub : {shell, info, verify, extract, mount, version, help})
    if (sub->parsed())
      for (const std::vector<std::string>& extra : {sub->remaining(), app.remaining()})
        if (!extra.empty())
          return error(sub->get_name() + ": unexpected argument " + extra[0] + " (see ./app help)");
  if (version_flag) {
    opts.command = Options::Command::kVersion;
  } else if (app.got_subcommand("help")) {
    opts.command = Options::Command::kHelp;
    opts.help_text = help_text;
  } else if (app.got_subcommand("version")) {
    opts.command = Options::Command::kVersion;
  } else if (info->parsed()) {
    opts.command = Options::Command::kInfo;
  } else if (verify->parsed()) {
    opts.command = Options::Command::kVerify;
  } else if (extract->parsed()) {
    opts.command = Options::Command::kExtract;
  } else if (mount->parsed()) {
    opts.command = Options::Command::kMount;
  } else if (run->parsed() || shell->parsed()) {
    if (auto ok = finish_run_options(opts.run, raw); !ok) return ok.error();
    if (shell->parsed()) {
      opts.run.login_shell = true;
    } else {
      // prefix_command() stops at the first unknown word; a dash there is a mistyped option, not a
      // command. After an explicit `--`, CLI11 hands the rest to the parent app.
      opts.run.command = run->remaining();
      if (opts.run.command.empty()) {
        opts.run.command = app.remaining();
      } else if (opts.run.command[0].size() > 1 && opts.run.command[0][0] == '-') {
        return error("run: unknown option " + opts.run.command[0] + " (see ./app help)");
      }
      if (opts.run.command.empty()) return error("run: missing the command to run (./app run CMD [ARGS...])");
    }
  } else {
    opts.run.command = app.remaining();
    opts.run.command_replaces_cmd = !opts.run.command.empty();
  }
  return opts;
}

}  // namespace havre::runtime
