// Who besides root can change what a path names? A pure judge over the stat results of a
// resolved path (FileSystem::resolvePath), for files that root-run daemons trust, such as
// Postfix's main.cf and master.cf. Someone can change them when they can write the final
// file, or replace an entry anywhere on the way to it: a directory looked up in that they
// own or that is group/other writable without the sticky bit, or, in a sticky writable
// directory (like /tmp), an entry they own. The findings use the words of `postfix check`
// ("group or other writable", "not owned by root"). Pure: no I/O, no logging.
#pragma once

#include <string>
#include <vector>

#include "common/os/file_system.h"

namespace postwarden::os {

// One line per way a non-root user could change `resolved`, each naming the path, e.g.
// "group or other writable: '/srv/config/main.cf' (mode 0664)",
// "not owned by root: directory '/srv/config' (uid 65534)". Empty when only root can.
// A directory that appears in several lookups is judged once.
std::vector<std::string> nonRootWriters(const ResolvedPath& resolved);

}  // namespace postwarden::os
