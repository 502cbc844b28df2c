// Reads a whole local file with a size limit, with errors that name the file. The one place
// postwardenctl touches the file system (config, certificates, baselines), so tests can
// substitute it through a FileReader.
#pragma once

#include <cstddef>
#include <functional>
#include <string>

#include "common/status.h"

namespace postwarden::controller::ctl {

// Reads `path`, at most `max_bytes`. NotFound / PermissionDenied ("reading 'PATH': reason")
// when it cannot be read, InvalidArgument when it is not a regular file, ResourceExhausted
// when it is larger than `max_bytes`. No side effects.
Result<std::string> readLocalFile(const std::string& path, size_t max_bytes);

using FileReader = std::function<Result<std::string>(const std::string& path, size_t max_bytes)>;

}  // namespace postwarden::controller::ctl
