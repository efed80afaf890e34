// What every faascale command-line program shares: parsing its arguments, and mapping
// errors to messages and exit codes (0 success, 2 bad input or arguments, 1 any other
// failure).
#pragma once

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <functional>
#include <stdexcept>
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "sim/input_error.hpp"
#include "sim/json_reader.hpp"
#include "sim/report.hpp"

namespace faascale::cli {

// Parses into `app`'s options; returns the exit code to stop with (0 for --help, 2 for a
// bad argument, with a message), or -1 to go on.
inline int parse(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << app.get_name() << ": error: " << e.what() << " (see " << app.get_name() << " --help)\n";
    return 2;
  }
  return -1;
}

// Refuses, before any work, an output file path whose folder does not exist, that names
// something other than a regular file, or that is one of the run's `inputs` (the scenario
// file, say: it would be overwritten).
inline void check_output_file(const std::string& path, bool folder_may_be_created = false,
                              const std::vector<std::string>& inputs = {}) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::exists(path, ec) && !fs::is_regular_file(path, ec)) {
    throw InputError(path + ": exists and is not a regular file; move it away or choose another path.");
  }
  for (const auto& input : inputs) {
    if (!input.empty() && fs::equivalent(path, input, ec)) {
      throw InputError(path + ": is also this run's input " + input + ", which the output would overwrite; "
                       "choose another output folder (--out, or train.checkpoint_dir for a checkpoint).");
    }
  }
  const fs::path parent = fs::path(path).parent_path();
  if (!folder_may_be_created && !parent.empty() && !fs::is_directory(parent, ec)) {
    throw InputError(path + ": its folder " + parent.string() + " does not exist; create it or choose another path.");
  }
}

// Refuses an output folder path that exists and is not a folder.
inline void check_output_folder(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::exists(path, ec) && !std::filesystem::is_directory(path, ec)) {
    throw InputError(path + ": exists and is not a folder; choose another output folder.");
  }
}

// Refuses a folder this program cannot create files in, found by creating and removing one
// (permissions, a read-only or pseudo file system), before a long run would fail at its end.
// The probe is created anew (never through a link planted under its name).
inline void check_writable_folder(const std::string& dir) {
  const std::string probe =
      (std::filesystem::path(dir) / (".faascale-write-check." + std::to_string(::getpid()) + ".tmp")).string();
  const int fd = create_new_file(probe);
  int error = errno;
  if (fd >= 0) {
    const bool written = ::write(fd, "x", 1) == 1;
    error = errno;
    ::close(fd);
    ::unlink(probe.c_str());
    if (written) return;
  }
  throw InputError(dir + ": cannot write files there (" + std::strerror(error) + "); choose another output folder.");
}

// Runs `body` and turns exceptions into a message on stderr and an exit code.
inline int guarded(const std::string& program, const std::function<int()>& body) {
  try {
    return body();
  } catch (const InputError& e) {
    std::cerr << program << ": error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << program << ": failed: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace faascale::cli
