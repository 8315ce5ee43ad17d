# systemd/install.cmake - included by the top CMakeLists.txt: the unit, the
# socket, sysusers.d and tmpfiles.d snippets, the example configuration and the
# operations notes.
#
# The files in systemd/ name the paths of a /usr install (/usr/sbin/plantrackd,
# /etc/plantrack, /usr/share/plantrack); for any other prefix the installed
# copies are rewritten to the real install paths.
# Units go to ${CMAKE_INSTALL_PREFIX}/lib/systemd/system (/usr/lib/systemd/system
# for -DCMAKE_INSTALL_PREFIX=/usr, which is what a Debian server wants).
set(PLANTRACK_SYSTEMD_UNIT_DIR "${CMAKE_INSTALL_PREFIX}/lib/systemd/system"
    CACHE PATH "Where the systemd units are installed")
set(PLANTRACK_SYSUSERS_DIR "${CMAKE_INSTALL_PREFIX}/lib/sysusers.d"
    CACHE PATH "Where the sysusers.d snippet is installed")
set(PLANTRACK_TMPFILES_DIR "${CMAKE_INSTALL_PREFIX}/lib/tmpfiles.d"
    CACHE PATH "Where the tmpfiles.d snippet is installed")

set(_pt_systemd_out "${CMAKE_BINARY_DIR}/systemd")
file(MAKE_DIRECTORY "${_pt_systemd_out}")
foreach(_pt_file plantrackd.service plantrackd.socket plantrack.sysusers.conf
                 plantrack.tmpfiles.conf plantrackd.conf.example plantrackd-check-db)
  set(_pt_src "${CMAKE_CURRENT_LIST_DIR}/${_pt_file}")
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${_pt_src}")
  file(READ "${_pt_src}" _pt_text)
  string(REPLACE "/usr/sbin/plantrackd" "${CMAKE_INSTALL_FULL_SBINDIR}/plantrackd" _pt_text "${_pt_text}")
  string(REPLACE "/usr/libexec/plantrack" "${CMAKE_INSTALL_FULL_LIBEXECDIR}/plantrack" _pt_text "${_pt_text}")
  string(REPLACE "/etc/plantrack" "${CMAKE_INSTALL_FULL_SYSCONFDIR}/plantrack" _pt_text "${_pt_text}")
  string(REPLACE "/usr/share/plantrack" "${PLANTRACK_DATA_INSTALL_DIR}" _pt_text "${_pt_text}")
  string(REPLACE "/usr/share/doc/plantrack" "${CMAKE_INSTALL_FULL_DOCDIR}" _pt_text "${_pt_text}")
  file(WRITE "${_pt_systemd_out}/${_pt_file}" "${_pt_text}")
endforeach()

install(FILES
  ${_pt_systemd_out}/plantrackd.service
  ${_pt_systemd_out}/plantrackd.socket
  DESTINATION ${PLANTRACK_SYSTEMD_UNIT_DIR})
install(PROGRAMS ${_pt_systemd_out}/plantrackd-check-db
  DESTINATION ${CMAKE_INSTALL_FULL_LIBEXECDIR}/plantrack)
install(FILES ${_pt_systemd_out}/plantrack.sysusers.conf
  DESTINATION ${PLANTRACK_SYSUSERS_DIR} RENAME plantrack.conf)
install(FILES ${_pt_systemd_out}/plantrack.tmpfiles.conf
  DESTINATION ${PLANTRACK_TMPFILES_DIR} RENAME plantrack.conf)
# CMAKE_INSTALL_FULL_SYSCONFDIR: /etc for a /usr prefix (GNUInstallDirs), not /usr/etc
install(FILES ${_pt_systemd_out}/plantrackd.conf.example
  DESTINATION ${CMAKE_INSTALL_FULL_SYSCONFDIR}/plantrack)
if(EXISTS ${CMAKE_CURRENT_LIST_DIR}/../docs/operations.md)
  install(FILES ${CMAKE_CURRENT_LIST_DIR}/../docs/operations.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
endif()
