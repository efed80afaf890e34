// The one exception type for bad user input (scenario files, traces, command-line
// overrides). Its message names the file, the JSON path or line, what is wrong and how to
// fix it; programs print it and exit non-zero without writing any output.
#pragma once

#include <stdexcept>
#include <string>

namespace faascale {

class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace faascale
