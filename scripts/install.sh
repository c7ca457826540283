#!/usr/bin/env bash
# Installs the dfuflash C library for C and C++ consumers:
#   PREFIX/lib/libdfuflash.so, PREFIX/lib/libdfuflash.a, PREFIX/include/dfuflash.h,
#   PREFIX/lib/pkgconfig/dfuflash.pc and dfuflash-static.pc (pkg-config --cflags --libs),
#   PREFIX/lib/cmake/dfuflash/ (find_package(dfuflash CONFIG): targets dfuflash::dfuflash and
#   dfuflash::dfuflash_static).
# Usage: scripts/install.sh [PREFIX]   (default /usr/local; DESTDIR is honoured)
set -euo pipefail
prefix=${1:-/usr/local}
# A relative prefix is the caller's, not the repository's.
case $prefix in /*) ;; *) prefix="$PWD/$prefix" ;; esac
cd "$(dirname "$0")/.."
# Where cargo puts what it builds (CARGO_TARGET_DIR is honoured; a cross build, named by cargo's
# own CARGO_BUILD_TARGET, is in its target's folder).
out=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/${CARGO_BUILD_TARGET:+$CARGO_BUILD_TARGET/}release
# The library's features: USB, no command-line crates; DFUFLASH_LIB_FEATURES overrides them
# (the ARM archives: libusb compiled in, with the stage's own features so nothing is rebuilt).
read -ra lib_features <<<"${DFUFLASH_LIB_FEATURES:---no-default-features --features usb}"
dest="${DESTDIR:-}$prefix"
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)

cargo build --release --locked --lib "${lib_features[@]}"
# What a static link needs besides libdfuflash.a, as rustc reports it.
static_libs=$(cargo rustc --release --locked --lib "${lib_features[@]}" --crate-type staticlib -- --print native-static-libs 2>&1 \
    | sed -n 's/.*native-static-libs: //p' | tail -1)
[ -n "$static_libs" ] || static_libs="-lgcc_s -lutil -lrt -lpthread -lm -ldl -lc"

# An archive, unpacked anywhere, is found relative to its .pc files (pkg-config's pcfiledir):
# DFUFLASH_RELOCATABLE=1 (scripts/package.sh). The CMake files always are.
pc_prefix=$prefix
# shellcheck disable=SC2016 # for pkg-config, not the shell
[ -z "${DFUFLASH_RELOCATABLE:-}" ] || pc_prefix='${pcfiledir}/../..'

install -d "$dest/lib/pkgconfig" "$dest/lib/cmake/dfuflash" "$dest/include"
install -m 0755 "$out/libdfuflash.so" "$dest/lib/"
install -m 0644 "$out/libdfuflash.a" "$dest/lib/"
install -m 0644 include/dfuflash.h "$dest/include/"

cat > "$dest/lib/pkgconfig/dfuflash.pc" <<PC
prefix=$pc_prefix
libdir=\${prefix}/lib
includedir=\${prefix}/include

Name: dfuflash
Description: USB DFU 1.1 and ST DfuSe flasher (STM32H7 Rev V included)
Version: $version
Cflags: -I\${includedir}
Libs: -L\${libdir} -ldfuflash -Wl,-rpath,\${libdir}
Libs.private: $static_libs
PC

# Static linking: pkg-config --cflags --libs dfuflash-static (names the archive, so the linker
# cannot pick the shared library instead).
cat > "$dest/lib/pkgconfig/dfuflash-static.pc" <<PC
prefix=$pc_prefix
libdir=\${prefix}/lib
includedir=\${prefix}/include

Name: dfuflash-static
Description: dfuflash, linked statically
Version: $version
Cflags: -I\${includedir}
Libs: \${libdir}/libdfuflash.a $static_libs
PC

cat > "$dest/lib/cmake/dfuflash/dfuflashConfig.cmake" <<CMAKE
# dfuflash $version: imported targets dfuflash::dfuflash (shared) and dfuflash::dfuflash_static.
get_filename_component(_dfuflash_prefix "\${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)
if(NOT TARGET dfuflash::dfuflash)
  add_library(dfuflash::dfuflash SHARED IMPORTED)
  set_target_properties(dfuflash::dfuflash PROPERTIES
    IMPORTED_LOCATION "\${_dfuflash_prefix}/lib/libdfuflash.so"
    IMPORTED_NO_SONAME TRUE
    INTERFACE_INCLUDE_DIRECTORIES "\${_dfuflash_prefix}/include")
endif()
if(NOT TARGET dfuflash::dfuflash_static)
  add_library(dfuflash::dfuflash_static STATIC IMPORTED)
  separate_arguments(_dfuflash_static_libs UNIX_COMMAND "$static_libs")
  set_target_properties(dfuflash::dfuflash_static PROPERTIES
    IMPORTED_LOCATION "\${_dfuflash_prefix}/lib/libdfuflash.a"
    INTERFACE_INCLUDE_DIRECTORIES "\${_dfuflash_prefix}/include"
    INTERFACE_LINK_LIBRARIES "\${_dfuflash_static_libs}")
endif()
set(dfuflash_FOUND TRUE)
CMAKE

cat > "$dest/lib/cmake/dfuflash/dfuflashConfigVersion.cmake" <<CMAKE
set(PACKAGE_VERSION "$version")
if(PACKAGE_FIND_VERSION VERSION_GREATER PACKAGE_VERSION)
  set(PACKAGE_VERSION_COMPATIBLE FALSE)
else()
  string(REGEX MATCH "^[0-9]+\\\\.[0-9]+" _have "$version")
  string(REGEX MATCH "^[0-9]+\\\\.[0-9]+" _want "\${PACKAGE_FIND_VERSION}")
  if(_have VERSION_EQUAL _want OR "\${PACKAGE_FIND_VERSION}" STREQUAL "")
    set(PACKAGE_VERSION_COMPATIBLE TRUE)
  else()
    set(PACKAGE_VERSION_COMPATIBLE FALSE)
  endif()
  if(PACKAGE_FIND_VERSION STREQUAL PACKAGE_VERSION)
    set(PACKAGE_VERSION_EXACT TRUE)
  endif()
endif()
CMAKE
echo "installed dfuflash $version into $dest"
