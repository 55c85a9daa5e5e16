// make_exec_spec's Docker rules and exec_search's PATH walk (with a fake execve).
#include <doctest/doctest.h>

#include <cerrno>
#include <map>
#include <string>
#include <vector>

#include "container/exec.h"

namespace havre::runtime {
namespace {

manifest::Manifest manifest_with(std::vector<std::string> entrypoint, std::vector<std::string> cmd) {
  manifest::Manifest m;
  m.entrypoint = std::move(entrypoint);
  m.cmd = std::move(cmd);
  return m;
}

std::string env_of(const ExecSpec& spec, const std::string& key) {
  for (const std::string& kv : spec.env)
    if (kv.rfind(key + "=", 0) == 0) return kv.substr(key.size() + 1);
  return "<unset>";
}

TEST_CASE("make_exec_spec: `run CMD` runs CMD; otherwise entrypoint + (args or cmd); neither: a login shell") {
  RunOptions opts;
  opts.command = {"echo", "hi"};
  CHECK(make_exec_spec(manifest_with({"/entry"}, {"default"}), opts, nullptr).argv ==
        std::vector<std::string>{"echo", "hi"});
  opts.command_replaces_cmd = true;  // ./app ARGS
  CHECK(make_exec_spec(manifest_with({"/entry"}, {"default"}), opts, nullptr).argv ==
        std::vector<std::string>{"/entry", "echo", "hi"});
  CHECK(make_exec_spec(manifest_with({}, {"default"}), RunOptions{}, nullptr).argv ==
        std::vector<std::string>{"default"});
  CHECK(make_exec_spec(manifest_with({"/entry"}, {"a", "b"}), RunOptions{}, nullptr).argv ==
        std::vector<std::string>{"/entry", "a", "b"});
  const ExecSpec none = make_exec_spec(manifest_with({}, {}), RunOptions{}, nullptr);
  CHECK(none.login_shell);
  CHECK(none.argv.empty());
  RunOptions shell;
  shell.login_shell = true;
  shell.command = {"ignored"};
  CHECK(make_exec_spec(manifest_with({"/entry"}, {}), shell, nullptr).login_shell);
}

TEST_CASE("make_exec_spec: environment defaults, the host's TERM, the manifest's env, then -e") {
  manifest::Manifest m = manifest_with({}, {"x"});
  m.env = {{"A", "from-manifest"}, {"PATH", "/opt/bin"}};
  RunOptions opts;
  opts.env = {"A=from-e", "B=x=y", "EMPTY="};
  const ExecSpec spec = make_exec_spec(m, opts, "xterm");
  CHECK(env_of(spec, "PATH") == "/opt/bin");
  CHECK(env_of(spec, "HOME") == "/root");
  CHECK(env_of(spec, "TERM") == "xterm");
  CHECK(env_of(spec, "A") == "from-e");
  CHECK(env_of(spec, "B") == "x=y");
  CHECK(env_of(spec, "EMPTY") == "");
  CHECK(env_of(make_exec_spec(m, RunOptions{}, "") , "TERM") == "<unset>");
  CHECK(env_of(make_exec_spec(manifest_with({}, {"x"}), RunOptions{}, nullptr), "PATH") ==
        "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
}

TEST_CASE("make_exec_spec: --user wins over the manifest's user; a malformed manifest user is ignored") {
  manifest::Manifest m = manifest_with({}, {"x"});
  m.user = "1000:100";
  ExecSpec spec = make_exec_spec(m, RunOptions{}, nullptr);
  CHECK(spec.uid == 1000u);
  CHECK(spec.gid == 100u);
  CHECK(env_of(spec, "HOME") == "/");
  RunOptions opts;
  opts.uid = 5;
  spec = make_exec_spec(m, opts, nullptr);
  CHECK(spec.uid == 5u);
  CHECK(!spec.gid);
  m.user = "7";
  CHECK(make_exec_spec(m, RunOptions{}, nullptr).gid == 7u);
  m.user = "nobody";
  CHECK(!make_exec_spec(m, RunOptions{}, nullptr).uid);
}

TEST_CASE("make_exec_spec: workdir from -w, then the manifest, then /; caps and seccomp from the options") {
  manifest::Manifest m = manifest_with({}, {"x"});
  CHECK(make_exec_spec(m, RunOptions{}, nullptr).workdir == "/");
  m.workdir = "/srv";
  CHECK(make_exec_spec(m, RunOptions{}, nullptr).workdir == "/srv");
  RunOptions opts;
  opts.workdir = "/tmp";
  opts.caps = 0;
  opts.seccomp = false;
  const ExecSpec spec = make_exec_spec(m, opts, nullptr);
  CHECK(spec.workdir == "/tmp");
  CHECK(spec.caps == 0);
  CHECK(!spec.seccomp);
}

// A fake execve: records each call, and fails with the errno the test gave that path.
std::vector<std::string> g_calls;
std::vector<std::vector<std::string>> g_argvs;
std::map<std::string, int> g_errno;

int fake_execve(const char* path, char* const argv[], char* const[]) {
  g_calls.push_back(path);
  std::vector<std::string> args;
  for (int i = 0; argv[i] != nullptr; ++i) args.push_back(argv[i]);
  g_argvs.push_back(args);
  const auto it = g_errno.find(path);
  errno = it == g_errno.end() ? ENOENT : it->second;
  return -1;
}

ExecFailure search(std::vector<std::string> argv, const std::string& path) {
  g_calls.clear();
  g_argvs.clear();
  static std::vector<std::string> keep_argv, keep_env;
  keep_argv = std::move(argv);
  keep_env = {"PATH=" + path};
  std::vector<char*> cargv, cenv;
  for (std::string& a : keep_argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  for (std::string& e : keep_env) cenv.push_back(e.data());
  cenv.push_back(nullptr);
  return exec_search(keep_argv, keep_env, cargv, cenv, fake_execve);
}

TEST_CASE("exec_search: the container's PATH in order; empty entries mean the current directory") {
  g_errno.clear();
  const ExecFailure f = search({"tool", "arg"}, "/a::/b");
  CHECK(g_calls == std::vector<std::string>{"/a/tool", "./tool", "/b/tool"});
  CHECK(f.status == 127);
  CHECK(f.what == "tool: command not found");
}

TEST_CASE("exec_search: EACCES is remembered (126), ENOTDIR skipped, another error stops the walk") {
  g_errno = {{"/a/tool", EACCES}, {"/b/tool", ENOTDIR}};
  ExecFailure f = search({"tool"}, "/a:/b:/c");
  CHECK(g_calls.size() == 3);
  CHECK(f.status == 126);
  CHECK(f.err == EACCES);
  g_errno = {{"/a/tool", ELOOP}};
  f = search({"tool"}, "/a:/b");
  CHECK(g_calls == std::vector<std::string>{"/a/tool"});
  CHECK(f.status == 126);
  CHECK(f.what == "/a/tool");
}

TEST_CASE("exec_search: a name with a slash is run as given (127 when missing, 126 otherwise)") {
  g_errno.clear();
  CHECK(search({"./x"}, "/a").status == 127);
  CHECK(g_calls == std::vector<std::string>{"./x"});
  g_errno = {{"/bin/x", EACCES}};
  CHECK(search({"/bin/x"}, "/a").status == 126);
}

TEST_CASE("exec_search: ENOEXEC (a script without #!) runs with /bin/sh, as execvp does") {
  g_errno = {{"/b/script", ENOEXEC}, {"/bin/sh", ENOENT}};
  const ExecFailure f = search({"script", "one", "two"}, "/a:/b");
  REQUIRE(g_calls == std::vector<std::string>{"/a/script", "/b/script", "/bin/sh"});
  CHECK(g_argvs[2] == std::vector<std::string>{"/bin/sh", "/b/script", "one", "two"});
  // Without a shell either, the file is not executable.
  CHECK(f.status == 126);
  CHECK(f.err == ENOEXEC);
}

}  // namespace
}  // namespace havre::runtime
