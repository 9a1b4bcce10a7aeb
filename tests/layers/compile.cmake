# Compile SRC with CC, -fsyntax-only, with every directory of the list DIRS
# as -I (tests/layers/README.md). Fails (non-zero) when the compiler does;
# its messages go to the output the ctest checks.
set(flags "")
foreach(d IN LISTS DIRS)
    if(d)
        list(APPEND flags "-I${d}")
    endif()
endforeach()
execute_process(COMMAND ${CC} -std=c11 -fsyntax-only ${flags} ${SRC}
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
    message(FATAL_ERROR "compiling ${SRC} failed (${rc})")
endif()
