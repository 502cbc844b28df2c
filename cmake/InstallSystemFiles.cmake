# Run by `cmake --install` (install(SCRIPT) in the top-level CMakeLists.txt): installs the
# systemd units and the example configuration files. Where they go and which paths the units
# name depend on the install prefix, which `cmake --install --prefix` may set after configure,
# so both are decided here, at install time:
#
#   prefix /usr (the .deb, debian/rules): units in /lib/systemd/system (Debian 12's place, the
#     one dh_installsystemd handles), configs in /etc; the units as written in packaging/.
#   any other prefix P: units in P/lib/systemd/system, configs in P/etc, and /usr/sbin/ and
#     /usr/bin/ in the units rewritten to P/sbin/ and P/bin/, so a unit always starts the
#     binaries this install put down.
#
# The example configs are installed only when absent: an install over a configured host never
# replaces the administrator's files (dpkg handles them as conffiles in the package).
# Needs POSTWARDEN_SOURCE_DIR and POSTWARDEN_BINARY_DIR (set by install(CODE) before this).

string(REGEX REPLACE "/+$" "" prefix "${CMAKE_INSTALL_PREFIX}")
if(prefix STREQUAL "/usr")
  set(unit_dir "/lib/systemd/system")
  set(sysconf_dir "/etc")
else()
  set(unit_dir "${prefix}/lib/systemd/system")
  set(sysconf_dir "${prefix}/etc")
endif()

set(units postwarden-agent.service postwarden-agent.timer postwarden-agentd.service
          postwarden-controller.service)
set(staged_dir "${POSTWARDEN_BINARY_DIR}/packaging-units")
file(MAKE_DIRECTORY "${staged_dir}")
foreach(unit IN LISTS units)
  file(READ "${POSTWARDEN_SOURCE_DIR}/packaging/${unit}" text)
  if(NOT prefix STREQUAL "/usr")
    string(REPLACE "/usr/sbin/" "${prefix}/sbin/" text "${text}")
    string(REPLACE "/usr/bin/" "${prefix}/bin/" text "${text}")
  endif()
  file(WRITE "${staged_dir}/${unit}" "${text}")
  # file(INSTALL) prepends $DESTDIR and records the file in install_manifest.txt.
  file(INSTALL "${staged_dir}/${unit}" DESTINATION "${unit_dir}"
       FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
endforeach()

# SOURCE (in packaging/) -> DEST (under the config dir), mode 0644.
foreach(pair IN ITEMS "agent.yaml|postwarden/agent.yaml"
                      "postwarden-controller.default|default/postwarden-controller")
  string(REPLACE "|" ";" pair "${pair}")
  list(GET pair 0 source)
  list(GET pair 1 dest)
  get_filename_component(dest_dir "${sysconf_dir}/${dest}" DIRECTORY)
  get_filename_component(dest_name "${dest}" NAME)
  if(EXISTS "$ENV{DESTDIR}${sysconf_dir}/${dest}")
    message(STATUS "Keeping existing: $ENV{DESTDIR}${sysconf_dir}/${dest}")
  else()
    file(INSTALL "${POSTWARDEN_SOURCE_DIR}/packaging/${source}" DESTINATION "${dest_dir}"
         RENAME "${dest_name}" FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
  endif()
endforeach()
