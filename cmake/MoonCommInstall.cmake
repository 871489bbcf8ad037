# cmake --install: headers, libmooncomm, the tools, and a package config so
# that an out-of-tree plugin can find_package(MoonComm) and link MoonComm::plugin_abi.
include(CMakePackageConfigHelpers)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/core/include/mooncomm ${PROJECT_SOURCE_DIR}/algorithms/include/mooncomm
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS mooncomm mooncomm_plugin_abi mooncomm_algorithms EXPORT MoonCommTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT MoonCommTargets NAMESPACE MoonComm:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/MoonComm)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/MoonCommConfig.cmake.in
  ${CMAKE_BINARY_DIR}/MoonCommConfig.cmake INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/MoonComm)
write_basic_package_version_file(${CMAKE_BINARY_DIR}/MoonCommConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion)
install(FILES ${CMAKE_BINARY_DIR}/MoonCommConfig.cmake ${CMAKE_BINARY_DIR}/MoonCommConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/MoonComm)
