#include "cli.h"

#include <CLI/CLI.hpp>

namespace havre::runtime {

Result<Options> parse_args(int argc, char** argv) {
  Options opts;
  CLI::App app{"A havre appliance: a whole Linux userland in one executable file."};
  app.name(argc > 0 ? argv[0] : "app");
  app.set_help_flag();  // `help` and `--help` both go to the help command below
  app.prefix_command();  // arguments to the default command are not ours to parse
  bool help_flag = false;
  app.add_flag("-h,--help", help_flag, "Print this help");

  CLI::App* info = app.add_subcommand("info", "Print where the image is and the manifest (no root, no mount)");
  info->add_flag("--json", opts.json, "Machine-readable output");
  CLI::App* version = app.add_subcommand("version", "Print the runtime's version");
  CLI::App* help = app.add_subcommand("help", "Print this help");
  app.require_subcommand(0, 1);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return error(e.what());
  }
  if (help_flag || help->parsed()) {
    opts.command = Options::Command::kHelp;
    opts.help_text = app.help();
  } else if (info->parsed()) {
    opts.command = Options::Command::kInfo;
  } else if (version->parsed()) {
    opts.command = Options::Command::kVersion;
  } else {
    opts.args = app.remaining();
  }
  return opts;
}

}  // namespace havre::runtime
