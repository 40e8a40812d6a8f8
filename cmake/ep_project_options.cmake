# Warning flags for our own targets only (third-party headers are included as SYSTEM).
add_library(ep_project_options INTERFACE)
add_library(ep::project_options ALIAS ep_project_options)
target_compile_features(ep_project_options INTERFACE cxx_std_20)
target_compile_options(ep_project_options INTERFACE
    -Wall -Wextra -Wpedantic -Wshadow=local -Wcast-align -Wunused
    -Woverloaded-virtual -Wnull-dereference -Wimplicit-fallthrough
    # g++ 12 reports false positives inside Asio/Beast coroutine frames and std headers.
    -Wno-maybe-uninitialized -Wno-dangling-reference -Wno-mismatched-new-delete -Wno-null-dereference
    # …and at -O2/-O3 inside libstdc++'s string/char_traits (GCC bugs 105329, 105651).
    -Wno-restrict -Wno-stringop-overflow -Wno-stringop-overread -Wno-array-bounds)
if(EP_WARNINGS_AS_ERRORS)
    target_compile_options(ep_project_options INTERFACE -Werror)
endif()

# ep_add_library(NAME DIR ...): a module library whose sources are every .cpp under DIR/src
# (globbed so that several people can add files to a module without editing one list).
function(ep_module_sources out dir)
    file(GLOB_RECURSE srcs CONFIGURE_DEPENDS "${dir}/src/*.cpp")
    set(${out} ${srcs} PARENT_SCOPE)
endfunction()
