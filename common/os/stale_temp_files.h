// Naming of writeAtomic's temp files and clean-up of the ones a crash left behind.
// A temp file for "/d/main.cf" is "/d/.main.cf.pw-tmp-<pid>-<nonce>": hidden, in the same
// directory (so rename is atomic), and recognisable, so that only our own leftovers are ever
// removed. Every FileSystem implementation names its temp files with writeAtomicTempName.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/os/file_system.h"
#include "common/status.h"

namespace postwarden::os {

// ".<base>.pw-tmp-<pid>-<nonce as 16 hex digits>". `base` is a file name, not a path.
std::string writeAtomicTempName(std::string_view base, pid_t pid, std::uint64_t nonce);

// True exactly for names writeAtomicTempName can produce: ".<non-empty base>.pw-tmp-<digits>-
// <16 lowercase hex digits>". Pure.
bool isWriteAtomicTempName(std::string_view name);

// Removes every writeAtomic temp file directly in `dir` (not recursive) and returns the
// paths it removed, sorted, so the caller can log them. Call it at startup while holding the
// agent's FileLock and before any writeAtomic: a temp file of a write in progress would be
// removed too. Errors: those of fs.listDirectory (NotFound for a missing `dir`) and of
// fs.remove; on a failed remove, the files removed before it stay removed.
Result<std::vector<std::string>> removeStaleTempFiles(FileSystem& fs, const std::string& dir);

}  // namespace postwarden::os
