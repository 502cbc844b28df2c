# postwarden_library(NAME SRCS ... [DEPS ...] [PUBLIC_DEPS ...])
# Creates postwarden_<NAME> with alias postwarden::<NAME>; the include root is the repository
# root, so headers are included as "agent/postfix/main_cf_document.h".
# PUBLIC_DEPS are the ones that appear in the module's headers.
function(postwarden_library NAME)
  cmake_parse_arguments(ARG "" "" "SRCS;DEPS;PUBLIC_DEPS" ${ARGN})
  add_library(postwarden_${NAME} STATIC ${ARG_SRCS})
  add_library(postwarden::${NAME} ALIAS postwarden_${NAME})
  target_include_directories(postwarden_${NAME} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(postwarden_${NAME} PUBLIC ${ARG_PUBLIC_DEPS} PRIVATE ${ARG_DEPS})
endfunction()

# postwarden_test(NAME SRCS ... [DEPS ...] LABEL unit|integration|e2e [TIMEOUT seconds])
# One gtest executable per module; each TEST becomes a ctest test carrying the label.
function(postwarden_test NAME)
  cmake_parse_arguments(ARG "" "LABEL;TIMEOUT" "SRCS;DEPS" ${ARGN})
  if(NOT ARG_LABEL)
    message(FATAL_ERROR "postwarden_test(${NAME}) needs LABEL")
  endif()
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 60)
  endif()
  add_executable(${NAME} ${ARG_SRCS})
  target_include_directories(${NAME} PRIVATE ${PROJECT_SOURCE_DIR})
  target_link_libraries(${NAME} PRIVATE ${ARG_DEPS} GTest::gmock GTest::gtest_main)
  target_compile_definitions(${NAME} PRIVATE
    POSTWARDEN_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    POSTWARDEN_BINARY_DIR="${PROJECT_BINARY_DIR}")
  gtest_discover_tests(${NAME}
    PROPERTIES LABELS ${ARG_LABEL} TIMEOUT ${ARG_TIMEOUT}
    DISCOVERY_TIMEOUT 60)
endfunction()

# Adds every immediate subdirectory of the current source directory that has a CMakeLists.txt,
# in sorted order, so modules can be added without editing a shared list.
function(postwarden_add_module_dirs)
  file(GLOB children LIST_DIRECTORIES true RELATIVE ${CMAKE_CURRENT_SOURCE_DIR}
       ${CMAKE_CURRENT_SOURCE_DIR}/*)
  list(SORT children)
  foreach(child ${children})
    if(IS_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/${child}
       AND EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/${child}/CMakeLists.txt)
      add_subdirectory(${child})
    endif()
  endforeach()
endfunction()
include(GoogleTest)
