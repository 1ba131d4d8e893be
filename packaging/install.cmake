# What `cmake --install` (and `make install PREFIX=...`) installs, and the
# Debian package `make deb` builds from it with CPack.
#
#   PREFIX/bin/{buildmaster,buildslave,buildbot}
#   PREFIX/share/doc/buildbot-cpp/{README.md,*.md,examples/*.yaml}
#   PREFIX/lib/systemd/system/{buildmaster@,buildslave@}.service
#   PREFIX/share/buildbot-cpp/contrib/ (the commit hooks, executable)
#
# The units name the installed programs, so they are written at install
# time for the prefix in effect then (a package's differs from a build's).
set(CMAKE_INSTALL_DOCDIR share/doc/buildbot-cpp CACHE PATH "documentation (README, docs, examples)")
include(GNUInstallDirs)
# Installing (and cpack) needs only the programs, not the tests and
# benchmarks that `all` builds; `make install` and `make deb` build them.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

install(TARGETS buildmaster buildslave buildbot RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${CMAKE_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
file(GLOB BB_DOC_FILES ${CMAKE_SOURCE_DIR}/docs/*.md)
install(FILES ${BB_DOC_FILES} DESTINATION ${CMAKE_INSTALL_DOCDIR})
file(GLOB BB_EXAMPLE_FILES ${CMAKE_SOURCE_DIR}/config/examples/*.yaml)
install(FILES ${BB_EXAMPLE_FILES} DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
install(PROGRAMS ${CMAKE_SOURCE_DIR}/contrib/svn_buildbot.sh ${CMAKE_SOURCE_DIR}/contrib/hg_buildbot.sh
                 ${CMAKE_SOURCE_DIR}/contrib/git_buildbot.sh ${CMAKE_SOURCE_DIR}/contrib/darcs_buildbot.sh
                 ${CMAKE_SOURCE_DIR}/contrib/cvs_buildbot.sh
        DESTINATION ${CMAKE_INSTALL_DATADIR}/buildbot-cpp/contrib)
install(FILES ${CMAKE_SOURCE_DIR}/contrib/buildbot_hook_common.sh ${CMAKE_SOURCE_DIR}/contrib/README.md
        DESTINATION ${CMAKE_INSTALL_DATADIR}/buildbot-cpp/contrib)

install(CODE "
  set(BB_BINDIR \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}\")
  set(BB_DOCDIR \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_DOCDIR}\")
  foreach(unit buildmaster@.service buildslave@.service)
    configure_file(\"${CMAKE_SOURCE_DIR}/packaging/systemd/\${unit}.in\"
                   \"${CMAKE_BINARY_DIR}/packaging/units/\${unit}\" @ONLY)
  endforeach()
  file(INSTALL \"${CMAKE_BINARY_DIR}/packaging/units/buildmaster@.service\"
               \"${CMAKE_BINARY_DIR}/packaging/units/buildslave@.service\"
       DESTINATION \"\${CMAKE_INSTALL_PREFIX}/lib/systemd/system\")
")

# `make deb`: a package for this machine's Debian. It installs under
# /usr/local, beside Debian's own `buildbot` package (Python Buildbot, in
# /usr/bin): both can be installed, and /usr/local/bin comes first in PATH.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME buildbot-cpp)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "buildbot-cpp maintainers <buildbot-cpp@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "continuous integration: buildmaster, buildslave and the buildbot client (C++)")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr/local)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
# Library dependencies from dpkg-shlibdeps; git runs the checkouts.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "git")
set(CPACK_STRIP_FILES ON)
include(CPack)
