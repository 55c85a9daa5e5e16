// What a container is: decided once (run.cpp's run(), or havre-pack's build steps) and read, never
// changed, by everything from clone() to exec.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "container/cgroup.h"
#include "app/cli.h"
#include "container/exec.h"
#include "format/self.h"

namespace havre::runtime {

/// Where the container's lower (read-only) layer comes from; image.h's choose_image_backend().
enum class ImageBackend {
  kLoop,       // root: a loop device and kernel squashfs
  kFuse,       // rootless: libsquashfuse served by the init's threads
  kExtracted,  // rootless without FUSE: the image extracted once into the cache (extract.h)
  kDirectory,  // havre-pack's build steps: a host directory, read-write
};

/// What the container mounts and limits (from the command line, taken once).
struct ContainerOptions {
  std::vector<Bind> binds;  // -v
  std::string persist_dir;  // --persist: writable layer kept here
  bool read_only = false;   // --read-only: no writable layer
  bool net_none = false;    // --net none
  ResourceLimits limits;    // --memory, --cpus, --pids-limit, --cgroups
};
ContainerOptions container_options(const RunOptions& opts);

struct ContainerSpec {
  /// The root: the appliance's image (under a writable overlay unless opts.read_only) ...
  const Appliance* image = nullptr;
  /// ... or a host directory used read-write as it is (havre-pack's build steps).
  std::string directory;
  ImageBackend backend = ImageBackend::kDirectory;
  std::string extracted_root;  // kExtracted: the extracted tree
  /// A user namespace of our own (not root, or --rootless): decided once, with the backend.
  bool rootless = false;
  ContainerOptions opts;
  ExecSpec exec;  // the command; its capabilities and seccomp choice live here only
  std::string hostname;
  /// When set, the command's stdout and stderr go to a pipe whose bytes are handed to this, and its
  /// stdin is /dev/null. Otherwise it inherits the caller's stdio.
  std::function<void(std::string_view)> output;
  /// Give the command a pty of the container's own and relay the caller's terminal to it.
  bool tty = false;
};

}  // namespace havre::runtime
