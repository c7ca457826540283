# Sourced by the ARM stage after scripts/setup-arm.sh: Debian's unpacked Rust (scripts/cross-env.sh,
# which also sets the Windows variables, unused here) with the ARM stage's own target directory,
# the Debian cross gcc as linker and C compiler (libusb is compiled with it) for each target,
# and user-mode QEMU, pointed at the cross C library, as the runner of what is built for it.
# shellcheck shell=bash
# shellcheck disable=SC2034 # the names are for the scripts that source this one
# shellcheck source=scripts/cross-env.sh
source "$(dirname "${BASH_SOURCE[0]}")/cross-env.sh"
export CARGO_TARGET_DIR="$root/target/arm/build"
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="qemu-aarch64 -L /usr/aarch64-linux-gnu"
export CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc
export AR_aarch64_unknown_linux_gnu=aarch64-linux-gnu-ar
export CARGO_TARGET_ARMV7_UNKNOWN_LINUX_GNUEABIHF_LINKER=arm-linux-gnueabihf-gcc
export CARGO_TARGET_ARMV7_UNKNOWN_LINUX_GNUEABIHF_RUNNER="qemu-arm -L /usr/arm-linux-gnueabihf"
export CC_armv7_unknown_linux_gnueabihf=arm-linux-gnueabihf-gcc
export AR_armv7_unknown_linux_gnueabihf=arm-linux-gnueabihf-ar
# Each target: its Rust triple, its gcc prefix, its QEMU and the C library QEMU loads from.
ARM_TARGETS=(aarch64-unknown-linux-gnu armv7-unknown-linux-gnueabihf)
declare -A ARM_GCC=([aarch64-unknown-linux-gnu]=aarch64-linux-gnu [armv7-unknown-linux-gnueabihf]=arm-linux-gnueabihf)
declare -A ARM_QEMU=([aarch64-unknown-linux-gnu]=qemu-aarch64 [armv7-unknown-linux-gnueabihf]=qemu-arm)
# What `file` says of its programs and libraries, and readelf's Machine of its objects.
declare -A ARM_FILE=([aarch64-unknown-linux-gnu]="ARM aarch64" [armv7-unknown-linux-gnueabihf]="ARM, EABI5")
declare -A ARM_MACHINE=([aarch64-unknown-linux-gnu]="AArch64" [armv7-unknown-linux-gnueabihf]="ARM")
