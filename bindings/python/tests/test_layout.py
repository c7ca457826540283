"""Device.flash_layout against the simulated STM32N6: python3 -m unittest discover bindings/python/tests"""

import os
import random
import struct
import sys
import tempfile
import unittest
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import dfuflash  # noqa: E402

NOR_SECTOR = 4096


def fsbl_v2_3(payload: bytes) -> bytes:
    """A v2.3 FSBL header as ST's signing tool writes an unsigned one (ST-SERIAL-BOOT.md A6),
    written here independently of the library: magic, payload byte sum at 0x64, version at
    0x68, length at 0x6C, entry at 0x70, load address at 0x78, extension flags at 0x84."""
    h = bytearray(0x240)
    h[0:4] = b"STM2"
    struct.pack_into("<IIII", h, 0x64, sum(payload) & 0xFFFFFFFF, 0x00020300, len(payload), 0x34189DA1)
    struct.pack_into("<I", h, 0x78, 0xFFFFFFFF)
    struct.pack_into("<I", h, 0x84, 0x80000000)
    return bytes(h) + payload


def nor(state_file: str, length: int) -> bytes:
    """The first `length` bytes of the NOR, as the simulator's state file keeps its sectors
    (`nor OFFSET SIZE` and the sector's bytes each; 0xFF where never written)."""
    data = open(state_file, "rb").read()
    out = bytearray(b"\xff" * length)
    at = data.find(b"\nnor ")
    while at >= 0:
        end = data.index(b"\n", at + 1)
        offset, size = data[at + 5:end].split()
        offset, size = int(offset, 16), int(size)
        body = data[end + 1:end + 1 + size]
        if offset < length:
            out[offset:offset + size] = body[:length - offset]
        at = data.find(b"\nnor ", end + 1 + size)
    return bytes(out)


class FlashLayoutTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        rng = random.Random(25)
        self.obl = fsbl_v2_3(bytes(rng.getrandbits(8) for _ in range(0x2000)))
        self.loader = bytes(rng.getrandbits(8) for _ in range(7880))
        self.app = bytes(rng.getrandbits(8) for _ in range(2 * NOR_SECTOR + 100))
        for name, data in (("obl.stm32", self.obl), ("loader.bin", self.loader), ("bootloader.bin", self.app)):
            self.write(name, data)
        # OpenMV's shape: seven columns, a comment line, no final line feed.
        self.tsv = self.write("FlashLayout.tsv",
                              b"#Opt\tId\tName\tType\tIP\tOffset\tBinary\n"
                              b"P\t0x1\tfsbl-openbl\tBinary\tnone\t0x0\tobl.stm32\n"
                              b"P\t0x3\tfsbl-extfl\tBinary\tnone\t0x0\tloader.bin\n"
                              b"P\t0x4\tfsbl-app\tBinary\tnor0\t0x0000000\tbootloader.bin")

    def tearDown(self):
        self.dir.cleanup()

    def write(self, name: str, data: bytes) -> str:
        path = os.path.join(self.dir.name, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def test_openmv_s_layout_writes_the_nor_and_reports_every_partition(self):
        state = os.path.join(self.dir.name, "n6.state")
        starts, logs = [], []

        def progress(p):
            if p.done == 0:
                starts.append(p.total)

        with dfuflash.open_simulated("stm32n6", state) as dev:
            r = dev.flash_layout(self.tsv, progress=progress, log=lambda level, m: logs.append(m),
                                 timeouts_ms={"reenumerate": 5000})
        self.assertEqual(r.phases, [0x01, 0x00, 0x00, 0x00, 0x03, 0x03, 0x04, 0x04, 0xFE])
        self.assertEqual(r.reenumerations, 1)
        self.assertGreater(r.requests, 0)
        P = dfuflash.PartitionRecord
        self.assertEqual(r.partitions, [
            P("fsbl-openbl", 0x01, len(self.obl), zlib.crc32(self.obl), None, 1, 0),
            P("fsbl-extfl", 0x03, len(self.loader), zlib.crc32(self.loader), None, 1, 1),
            P("fsbl-app", 0x04, len(self.app), zlib.crc32(self.app), None, 1, 2),
        ])
        # The FSBL, the layout (a 256-byte header and six columns per row), the loader, the app.
        self.assertEqual(starts[0], len(self.obl))
        self.assertEqual(starts[2:], [len(self.loader), len(self.app)])
        self.assertTrue(any("device reports END" in m for m in logs), logs)
        self.assertEqual(nor(state, len(self.app) + 1), self.app + b"\xff")

    def test_errors_name_the_line_and_column_and_carry_the_device_s_text(self):
        bad = self.write("bad.tsv", b"P\t0x1\tfsbl\tBinary\tnone\t0x0\tobl.stm32\nP\t0x1g\tx\tBinary\tnone\t0\tb\n")
        missing = self.write("missing.tsv", b"#c\nP\t0x1\tfsbl\tBinary\tnone\t0x0\tnosuch.stm32\n")
        self.write("junk.stm32", b"not an FSBL")
        junk = self.write("junk.tsv", b"P\t0x1\tfsbl\tBinary\tnone\t0x0\tjunk.stm32\n")
        with dfuflash.open_simulated("stm32n6") as dev:
            with self.assertRaises(dfuflash.TsvError) as cm:
                dev.flash_layout(bad)
            self.assertEqual(cm.exception.code, 800)
            self.assertIn("bad.tsv:2: column Id: ", cm.exception.message)
            self.assertIsInstance(cm.exception, dfuflash.LayoutError)
            with self.assertRaises(dfuflash.FileError) as cm:
                dev.flash_layout(missing)
            self.assertEqual(cm.exception.code, 401)
            self.assertIn("missing.tsv:2: column Binary: cannot read ", cm.exception.message)
            self.assertEqual(dev.report.requests, 0, "refused before any request")
            with self.assertRaises(dfuflash.LayoutError) as cm:
                dev.flash_layout(junk)
            self.assertEqual(cm.exception.code, 801)
            self.assertIn("the device reported an error (phase 0xFF): FSBL refused: no STM2 magic",
                          cm.exception.message)

    def test_a_callback_that_raises_cancels_the_layout_and_is_re_raised(self):
        def stop(p):
            if p.done > 0:
                raise KeyError("stop here")

        with dfuflash.open_simulated("stm32n6") as dev:
            with self.assertRaises(KeyError):
                dev.flash_layout(self.tsv, progress=stop)
            with self.assertRaises(dfuflash.CancelledError) as cm:
                dev.flash_layout(self.tsv, progress=lambda p: p.done == 0)
            self.assertEqual(cm.exception.code, 600)

    def test_a_log_callback_that_raises_cancels_the_layout_before_the_nor(self):
        state = os.path.join(self.dir.name, "n6.state")

        def log(level, message):
            raise KeyError("stop here")

        with dfuflash.open_simulated("stm32n6", state) as dev:
            with self.assertRaises(KeyError):
                dev.flash_layout(self.tsv, log=log)
        self.assertEqual(nor(state, 16), b"\xff" * 16, "the job stopped before the NOR")


    def test_a_library_older_than_abi_3_2_loads_and_says_flash_layout_needs_3_2(self):
        saved = dfuflash.LIB_ABI_MINOR
        dfuflash.LIB_ABI_MINOR = 1  # as a 3.1 library reports itself
        try:
            with dfuflash.open_simulated("stm32n6") as dev:
                with self.assertRaises(NotImplementedError) as cm:
                    dev.flash_layout(self.tsv)
                self.assertEqual(str(cm.exception), "the loaded libdfuflash implements ABI 3.1; "
                                 "flash_layout needs 3.2: load a newer library")
                self.assertEqual(dev.report.requests, 0)
        finally:
            dfuflash.LIB_ABI_MINOR = saved


if __name__ == "__main__":
    unittest.main()
