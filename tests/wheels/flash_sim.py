"""Run by scripts/test-wheels.sh with an installed wheel's Python, from outside the source tree
(read on standard input, so nothing of the tree is on sys.path): the package must load the
library it carries, and flash and read back a simulated STM32H7 Rev V through it."""
import os
import platform
import sys

import dfuflash

lib = dfuflash._lib._name
assert lib.startswith(sys.prefix), f"loaded {lib}, not the wheel's own library under {sys.prefix}"
data = os.urandom(300000)
address = 0x080C0000
with dfuflash.open_simulated("stm32h743-revv") as dev, dfuflash.Image.from_bytes(data, address) as image:
    report = dev.download(image)
    assert report.bytes_verified == len(data), report.bytes_verified
    # The Rev V erase recovery ran, as on the board (tests/packaging checks the same).
    assert 0x08100000 in report.workaround_sectors, report.workaround_sectors
    back = dev.upload(address, len(data))
    assert back == data, "read-back differs from what was written"
# A panic unwinds to the C ABI's catch (zig links its own unwinder in place of libgcc_s), and
# the same handle flashes again.
with dfuflash.open_simulated("stm32h743-revy") as dev:
    dev.set_sim_faults("panic@2")
    try:
        dev.download(dfuflash.Image.from_bytes(b"\0" * 64, 0x08020000))
        raise AssertionError("the injected panic did not fail the download")
    except dfuflash.PanicError as e:
        assert e.code == 102, e.code
    assert dev.download(dfuflash.Image.from_bytes(b"\7" * 64, 0x08020000)).bytes_verified == 64
    assert dev.upload(0x08020000, 64) == b"\7" * 64
print(f"wheel {platform.machine()}: {os.path.basename(lib)} flashed and read back {len(data)} bytes; a panic contained")
