# trib_module(NAME DEPS <modules...> LIBS <third-party targets...>)
#
# Declares the library trib_<NAME> (alias trib::<NAME>) from every .cpp under src/<NAME>/, with
# public headers under src/<NAME>/include/trib/<NAME>/. Refuses, at configure time:
#   - a DEPS entry that is not earlier in TRIB_MODULE_ORDER (dependencies point only downward);
#   - a source or header that includes "trib/<other>/..." for a module it did not declare.
# Unit tests: every tests/<NAME>/*_test.cpp becomes part of the executable <NAME>_test.
function(trib_module NAME)
  cmake_parse_arguments(M "" "" "DEPS;LIBS" ${ARGN})
  list(FIND TRIB_MODULE_ORDER ${NAME} self_idx)
  if(self_idx EQUAL -1)
    message(FATAL_ERROR "module '${NAME}' is not in TRIB_MODULE_ORDER")
  endif()
  set(allowed ${NAME})
  foreach(dep IN LISTS M_DEPS)
    list(FIND TRIB_MODULE_ORDER ${dep} dep_idx)
    if(dep_idx EQUAL -1 OR NOT dep_idx LESS self_idx)
      message(FATAL_ERROR "module '${NAME}' may not depend on '${dep}': dependencies must point "
                          "down the module order (${TRIB_MODULE_ORDER})")
    endif()
    list(APPEND allowed ${dep})
    # Transitive: what a dependency may include, so may we.
    get_property(dep_allowed GLOBAL PROPERTY TRIB_ALLOWED_${dep})
    list(APPEND allowed ${dep_allowed})
  endforeach()
  list(REMOVE_DUPLICATES allowed)
  set_property(GLOBAL PROPERTY TRIB_ALLOWED_${NAME} ${allowed})

  file(GLOB_RECURSE sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cpp)
  file(GLOB_RECURSE headers CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.hpp)
  foreach(file IN LISTS sources headers)
    file(STRINGS ${file} includes REGEX "^#include [\"<]trib/[a-z_]+/")
    foreach(line IN LISTS includes)
      string(REGEX MATCH "trib/([a-z_]+)/" _ "${line}")
      set(inc_mod ${CMAKE_MATCH_1})
      list(FIND allowed ${inc_mod} ok)
      if(ok EQUAL -1)
        message(FATAL_ERROR "${file}: includes trib/${inc_mod}/ but module '${NAME}' does not "
                            "depend on '${inc_mod}' (allowed: ${allowed})")
      endif()
    endforeach()
  endforeach()

  # A module always has sources once built out; the INTERFACE form only keeps a half-written
  # tree configurable.
  if(sources)
    set(scope PUBLIC)
    add_library(trib_${NAME} STATIC ${sources})
    # Position-independent: the Python extension (python/) links these archives into a .so.
    set_target_properties(trib_${NAME} PROPERTIES POSITION_INDEPENDENT_CODE ON)
  else()
    set(scope INTERFACE)
    add_library(trib_${NAME} INTERFACE)
  endif()
  add_library(trib::${NAME} ALIAS trib_${NAME})
  target_include_directories(trib_${NAME} ${scope} ${CMAKE_CURRENT_SOURCE_DIR}/include)
  foreach(dep IN LISTS M_DEPS)
    target_link_libraries(trib_${NAME} ${scope} trib::${dep})
  endforeach()
  if(M_LIBS)
    target_link_libraries(trib_${NAME} ${scope} ${M_LIBS})
  endif()
  # The link graph as built, one file per module (what it links, one per line), for the tests
  # that check what a module can reach (tests/llm: the assistant cannot link the broker).
  file(GENERATE OUTPUT ${CMAKE_BINARY_DIR}/link_graph/${NAME}.txt
       CONTENT "$<JOIN:$<TARGET_PROPERTY:trib_${NAME},INTERFACE_LINK_LIBRARIES>,\n>\n")
endfunction()

# trib_module_tests(NAME [LIBS ...]): tests/<NAME>/*_test.cpp -> executable <NAME>_test.
function(trib_module_tests NAME)
  cmake_parse_arguments(T "" "" "LIBS" ${ARGN})
  file(GLOB test_sources CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/tests/${NAME}/*_test.cpp)
  if(NOT test_sources)
    return()
  endif()
  add_executable(${NAME}_test ${test_sources})
  target_link_libraries(${NAME}_test PRIVATE trib::${NAME} ${T_LIBS} GTest::gtest GTest::gmock
                        GTest::gtest_main)
  target_compile_definitions(${NAME}_test PRIVATE
    TRIB_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    TRIB_SHARED_DATA="${PROJECT_SOURCE_DIR}/../shared/data"
    TRIB_BINARY_DIR="${PROJECT_BINARY_DIR}")
  gtest_discover_tests(${NAME}_test DISCOVERY_MODE PRE_TEST
                       PROPERTIES LABELS "unit;${NAME}" TIMEOUT 300)
endfunction()
