# Sourced by the Windows stage and the macOS check, after scripts/setup-windows.sh: Debian's
# unpacked Rust (with the std sources -Zbuild-std needs) first on PATH and rustup's cargo off
# it, its own CARGO_HOME and target directory, mingw-w64 as linker and C compiler for
# x86_64-pc-windows-gnu, and Wine as the runner of what is built for Windows.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
w="$root/target/cross"
export PATH="$w/toolchain/usr/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
export LD_LIBRARY_PATH="$w/toolchain/usr/lib/x86_64-linux-gnu"
# -Zbuild-std on a stable compiler.
export RUSTC_BOOTSTRAP=1
export CARGO_HOME="$w/cargo-home"
export CARGO_TARGET_DIR="$w/build"
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=x86_64-w64-mingw32-gcc
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER=wine
export CC_x86_64_pc_windows_gnu=x86_64-w64-mingw32-gcc
export AR_x86_64_pc_windows_gnu=x86_64-w64-mingw32-ar
export WINEPREFIX="$w/wine"
export WINEDEBUG=-all
unset RUSTFLAGS RUSTUP_TOOLCHAIN
WINDOWS_TARGET=x86_64-pc-windows-gnu
