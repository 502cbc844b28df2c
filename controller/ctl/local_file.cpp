#include "controller/ctl/local_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace postwarden::controller::ctl {

Result<std::string> readLocalFile(const std::string& path, size_t max_bytes) {
  const std::string context = "reading '" + path + "'";
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoToStatus(errno, context);
  struct stat info {};
  if (::fstat(fd, &info) != 0) {
    Status status = ErrnoToStatus(errno, context);
    ::close(fd);
    return status;
  }
  if (!S_ISREG(info.st_mode)) {
    ::close(fd);
    return InvalidArgumentError(context + ": not a regular file");
  }
  std::string data;
  char buffer[16384];
  while (true) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Status status = ErrnoToStatus(errno, context);
      ::close(fd);
      return status;
    }
    if (n == 0) break;
    data.append(buffer, static_cast<size_t>(n));
    if (data.size() > max_bytes) {
      ::close(fd);
      return ResourceExhaustedError(context + ": larger than " + std::to_string(max_bytes) +
                                    " bytes");
    }
  }
  ::close(fd);
  return data;
}

}  // namespace postwarden::controller::ctl
