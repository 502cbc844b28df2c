#include "controller/main/transfer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <utility>

#include "controller/store/transfer.h"

namespace postwarden::controller::main {
namespace {

Result<store::Transferable*> transferable(store::Store& store) {
  auto* t = dynamic_cast<store::Transferable*>(&store);
  if (t == nullptr) return FailedPreconditionError("this store cannot export or import");
  return t;
}

void printCounts(const std::string& verb, const store::TransferCounts& counts) {
  int64_t total = 0;
  std::string tables;
  for (const store::TransferTable& table : store::transferTables()) {
    auto it = counts.find(table.name);
    const int64_t n = it == counts.end() ? 0 : it->second;
    total += n;
    tables += (tables.empty() ? "" : ", ") + table.name + " " + std::to_string(n);
  }
  std::cerr << verb << " " << total << " rows (" << tables << ")\n";
}

// An export file the operator alone can read, created before anything is written into it.
Status createPrivateFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return UnavailableError("cannot create " + path + ": " + std::strerror(errno));
  const int changed = ::fchmod(fd, 0600);  // an existing file keeps its mode otherwise
  ::close(fd);
  if (changed != 0) return UnavailableError("cannot chmod " + path + ": " + std::strerror(errno));
  return OkStatus();
}

}  // namespace

Status exportTo(store::Store& store, const std::string& path) {
  PW_ASSIGN_OR_RETURN(store::Transferable * from, transferable(store));
  store::TransferCounts counts;
  if (path == "-") {
    PW_ASSIGN_OR_RETURN(counts, store::exportStore(*from, std::cout));
  } else {
    PW_RETURN_IF_ERROR(createPrivateFile(path));
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    PW_ASSIGN_OR_RETURN(counts, store::exportStore(*from, out));
    out.close();
    if (!out) return UnavailableError("cannot write " + path);
  }
  printCounts("exported", counts);
  return OkStatus();
}

Status importFrom(store::Store& store, const std::string& path) {
  PW_ASSIGN_OR_RETURN(store::Transferable * to, transferable(store));
  store::TransferCounts counts;
  if (path == "-") {
    PW_ASSIGN_OR_RETURN(counts, store::importStore(*to, std::cin));
  } else {
    std::ifstream in(path, std::ios::binary);
    if (!in) return NotFoundError("cannot read " + path);
    Result<store::TransferCounts> imported = store::importStore(*to, in);
    if (!imported.ok()) return imported.status().withContext(path);
    counts = std::move(imported).value();
  }
  printCounts("imported", counts);
  return OkStatus();
}

}  // namespace postwarden::controller::main
