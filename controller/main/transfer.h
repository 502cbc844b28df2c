// postwarden-controller export | import (controller/store/transfer.h): moving a controller's
// data to another store, mostly from SQLite to PostgreSQL when it outgrows one file. The
// commands take a store main.cpp opened (--store / --data-dir) and a file ("-": standard
// output or input). An export holds token hashes and every agent's reports: it is written
// 0600. What moved is counted on standard error.
#pragma once

#include <string>

#include "common/status.h"
#include "controller/store/store.h"

namespace postwarden::controller::main {

// Writes every row of `store` to `path`. FailedPrecondition when the store cannot export.
Status exportTo(store::Store& store, const std::string& path);
// Reads an export from `path` into `store` (an empty PostgreSQL store).
Status importFrom(store::Store& store, const std::string& path);

}  // namespace postwarden::controller::main
