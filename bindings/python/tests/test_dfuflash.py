"""The Python bindings against the simulator: python3 -m unittest discover bindings/python/tests"""

import os
import random
import struct
import sys
import tempfile
import hashlib
import threading
import unittest
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import dfuflash  # noqa: E402


def dfuse_file(address: int, data: bytes) -> bytes:
    """A DfuSe file (UM0391) written here, independently of dfuflash's writer."""
    element = struct.pack("<II", address, len(data)) + data
    target = struct.pack("<6sBI255sII", b"Target", 0, 1, b"fw", len(element), 1) + element
    body = struct.pack("<5sBIB", b"DfuSe", 1, 11 + len(target) + 16, 1) + target
    body += struct.pack("<HHHH3sB", 0xFFFF, 0xDF11, 0x0483, 0x011A, b"UFD", 16)
    return body + struct.pack("<I", ~zlib.crc32(body) & 0xFFFFFFFF)


FW = bytes(random.Random(5).getrandbits(8) for _ in range(0x1C0000 - 3000))


class FlashTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory()
        cls.dfu = os.path.join(cls.dir.name, "fw.dfu")
        with open(cls.dfu, "wb") as f:
            f.write(dfuse_file(0x08040000, FW))

    @classmethod
    def tearDownClass(cls):
        cls.dir.cleanup()

    def test_full_dfuse_flash_on_rev_v_with_progress(self):
        events, logs = [], []
        image = dfuflash.Image.load(self.dfu)
        self.assertEqual(image.targets[0][0], 0)
        self.assertEqual(image.targets[0][1][0][0], 0x08040000)
        with dfuflash.open_simulated("stm32h743-revv") as dev:
            report = dev.download(image, progress=events.append, log=lambda lvl, m: logs.append((lvl, m)))
            back = dev.upload(0x08100000 - 16, 64)
        self.assertEqual(report.bytes_verified, len(FW))
        self.assertEqual(report.workaround_sectors, [0x08100000 + i * 0x20000 for i in range(8)])
        self.assertEqual(len(report.sectors_erased), 14)
        self.assertGreater(report.device_busy_seconds, 12)
        self.assertEqual(back, FW[0x08100000 - 16 - 0x08040000:][:64])
        phases = [e.phase for e in events]
        # The boot block (the image's first block) is written and read back last.
        self.assertEqual(sorted(set(phases), key=phases.index), [dfuflash.PHASE_COMPARE, dfuflash.PHASE_ERASE, dfuflash.PHASE_WRITE, dfuflash.PHASE_VERIFY, dfuflash.PHASE_BOOT])
        self.assertEqual(report.sectors_skipped, [], "a blank device holds none of the image")
        for phase in (dfuflash.PHASE_COMPARE, dfuflash.PHASE_ERASE, dfuflash.PHASE_WRITE, dfuflash.PHASE_VERIFY, dfuflash.PHASE_BOOT):
            p = [e for e in events if e.phase == phase]
            self.assertEqual([e.done for e in p], sorted(e.done for e in p), "monotonic")
            self.assertEqual(p[-1].done, p[-1].total)
            self.assertEqual(len({e.total for e in p}), 1)
        erase = [e for e in events if e.phase == dfuflash.PHASE_ERASE and e.done]
        self.assertEqual([(e.sector_k, e.sector_n) for e in erase], [(k, 14) for k in range(1, 15)])
        self.assertEqual(sum(1 for lvl, m in logs if lvl == 2 and "Rev V" in m), 8, "one warning per recovered sector")

    def test_an_unchanged_image_is_compared_and_left_alone_unless_full(self):
        image = dfuflash.Image.from_bytes(FW[:0x60000], 0x080C0000)
        with dfuflash.open_simulated("stm32h743-revv") as dev:
            dev.download(image)
            phases = []
            again = dev.download(image, progress=lambda e: phases.append(e.phase))
            self.assertEqual(again.sectors_skipped, [0x080C0000, 0x080E0000, 0x08100000])
            self.assertEqual((again.sectors_erased, again.bytes_written, again.bytes_verified), ([], 0, 0x60000))
            self.assertNotIn(dfuflash.PHASE_VERIFY, phases, "the comparison already read every byte")
            full = dev.download(image, full=True)
            self.assertEqual((full.sectors_skipped, len(full.sectors_erased)), ([], 3))
            self.assertEqual(full.workaround_sectors, [0x08100000])
            self.assertEqual((again.sectors_planned, full.sectors_planned), (3, 3))

    def test_a_download_leaves_a_record_of_the_image_and_what_was_read_back(self):
        data = FW[:0x30001]
        image = dfuflash.Image.from_bytes(data, 0x08040000)
        with dfuflash.open_simulated("stm32h743-revy") as dev:
            r = dev.download(image)
            self.assertEqual(r.targets, [dfuflash.TargetRecord(0, len(data), hashlib.sha256(data).hexdigest())])
            crc = zlib.crc32(data)
            self.assertEqual(r.segments, [dfuflash.SegmentRecord(0, 0x08040000, len(data), crc, crc)])
            self.assertEqual(r.boot_block, 0x08040000)
            unverified = dev.download(image, full=True, verify=False)
            self.assertEqual(unverified.segments[0].readback_crc32, None, "not read back: no digest")
            self.assertEqual(unverified.segments[0].crc32, crc)
            self.assertIsNone(r.unverified, "verified")
            dev.upload(0x08040000, 4)
            self.assertEqual((dev.report.targets, dev.report.segments), ([], []), "an upload has no record")
        # A DFU 1.1 device that cannot upload is flashed and says why it is not verified.
        with dfuflash.open_simulated("esp32s2") as dev:
            r = dev.download(dfuflash.Image.from_bytes(FW[:5000], 0))
            self.assertEqual(r.bytes_verified, 0)
            self.assertIn("cannot upload", r.unverified)
            self.assertEqual(dev.report.unverified, r.unverified)

    def test_a_deadline_for_the_whole_operation(self):
        image = dfuflash.Image.from_bytes(FW[:0x60000], 0x080C0000)
        with dfuflash.open_simulated("stm32h743-revv") as dev:
            # 1 ms of the simulator's clock: two requests, then the deadline.
            with self.assertRaises(dfuflash.DeviceError) as e:
                dev.download(image, timeout=0.001)
            self.assertEqual(e.exception.code, 309)
            self.assertIn("ran past its deadline", str(e.exception))
            with self.assertRaises(ValueError):
                dev.download(image, timeout=0)
            self.assertEqual(dev.download(image, timeout=600).bytes_verified, 0x60000)
            # With verify off, what the comparison read and found equal still counts.
            self.assertEqual(dev.download(image, verify=False).bytes_verified, 0x60000)

    def test_cancel_from_the_callback_and_from_another_thread(self):
        image = dfuflash.Image.from_bytes(FW[:0x60000], 0x080C0000)
        with dfuflash.open_simulated("stm32h743-revv") as dev:
            writes = []

            def stop_after_three(e):
                if e.phase == dfuflash.PHASE_WRITE and e.done:
                    writes.append(e.done)
                    return len(writes) < 3

            with self.assertRaises(dfuflash.CancelledError) as cm:
                dev.download(image, progress=stop_after_three)
            self.assertEqual(cm.exception.code, 600)
            self.assertIn("dfuIDLE", cm.exception.message)
            self.assertEqual(len(writes), 3)

            started, cancelled = threading.Event(), threading.Event()

            def wait_for_cancel(e):
                if e.phase == dfuflash.PHASE_WRITE and e.done and not started.is_set():
                    started.set()
                    cancelled.wait(10)

            def other():
                started.wait(10)
                dev.cancel()
                cancelled.set()

            t = threading.Thread(target=other)
            t.start()
            with self.assertRaises(dfuflash.CancelledError):
                dev.download(image, progress=wait_for_cancel)
            t.join()
            self.assertEqual(dev.download(image).bytes_verified, 0x60000, "the device was left usable")

    def test_a_callback_that_raises_cancels_and_is_re_raised(self):
        class Boom(Exception):
            pass

        def boom(e):
            if e.phase == dfuflash.PHASE_WRITE:
                raise Boom("from the callback")

        with dfuflash.open_simulated("stm32h743-revy") as dev:
            with self.assertRaises(Boom):
                dev.download(dfuflash.Image.from_bytes(b"\x01" * 8192, 0x08020000), progress=boom)
            self.assertEqual(dev.download(dfuflash.Image.from_bytes(b"\x01" * 8192, 0x08020000)).bytes_verified, 8192)

    def test_exceptions_per_status_group(self):
        with self.assertRaises(dfuflash.FileError) as cm:
            dfuflash.Image.load("/nonexistent/fw.hex")
        self.assertEqual(cm.exception.code, 401)
        with self.assertRaises(dfuflash.ArgumentError) as cm:
            dfuflash.Image.load(self.dfu, address=0x08000000)
        self.assertIn("an address applies to raw binaries only", cm.exception.message)
        with self.assertRaises(dfuflash.RefusedError) as cm:
            with dfuflash.open_simulated("stm32h743-revv") as dev:
                dev.download(dfuflash.Image.from_bytes(b"\0" * 64, 0x081FFFF0))
        self.assertEqual(cm.exception.code, 500)
        self.assertIn("0x08200000", cm.exception.message)
        with self.assertRaises(dfuflash.DeviceError) as cm:
            with dfuflash.open_simulated("stm32h743-revv") as dev:
                dev.erase(0x08100000, 1, workarounds=False)
        self.assertEqual(cm.exception.code, 302)
        with self.assertRaises(dfuflash.UsbError) as cm:
            dfuflash.open(0x0483, 0xDF11, include_simulated=True)
        self.assertEqual(cm.exception.code, 206)
        self.assertIn("sim:stm32f405", cm.exception.message)
        with self.assertRaises(dfuflash.UsbError):
            with dfuflash.open_simulated("stm32h743-revy") as dev:
                dev.set_sim_faults("disconnect@5")
                dev.download(dfuflash.Image.from_bytes(b"\0" * 64, 0x08020000))
        with dfuflash.open_simulated("stm32h743-revy") as dev:
            dev.set_sim_faults("panic@2")
            with self.assertRaises(dfuflash.PanicError) as cm:
                dev.download(dfuflash.Image.from_bytes(b"\0" * 64, 0x08020000))
            self.assertEqual(cm.exception.code, 102)
            self.assertNotIsInstance(cm.exception, dfuflash.ArgumentError)
            # The same handle flashes after the contained panic.
            self.assertEqual(dev.download(dfuflash.Image.from_bytes(b"\7" * 64, 0x08020000)).bytes_verified, 64)
            self.assertEqual(dev.upload(0x08020000, 64), b"\7" * 64)
            # A call on a device that another call is using raises BusyError.
            with self.assertRaises(dfuflash.BusyError) as cm:
                dev.download(dfuflash.Image.from_bytes(b"\1" * 64, 0x08020000), progress=lambda p: dev.report)
            self.assertEqual(cm.exception.code, 103)
        with self.assertRaises(dfuflash.DfuflashError):
            dfuflash.open_simulated("nosuch")

    def test_a_gd32vf103_leave_succeeds_only_when_the_board_left(self):
        # Issue 29: whichever way its ROM leaves; a board still in DFU mode raises.
        for model in ("gd32vf103-leave-dnload-unanswered", "gd32vf103-leave-status-unanswered", "gd32vf103-leave-manifest"):
            with dfuflash.open_simulated(model) as dev:
                dev.leave(0x08000000)
                self.assertTrue(dev.report.left, model)
        with self.assertRaises(dfuflash.DeviceError) as cm:
            with dfuflash.open_simulated("gd32vf103-stays") as dev:
                dev.leave(0x08000000)
        self.assertEqual(cm.exception.code, 301)
        self.assertIn("did not leave DFU mode: it answered the leave request with OK in dfuIDLE", cm.exception.message)

    def test_openmv_partitions_by_name_with_verify_the_end_frame_and_reset(self):
        # Issue 26: OpenMV's bootloader, FIRMWARE and ROMFS0 chosen by name.
        fw = bytes(random.Random(26).getrandbits(8) for _ in range(20000))
        romfs = bytes(random.Random(27).getrandbits(8) for _ in range(9000))
        with dfuflash.open_simulated("openmv-h7p", alt="FIRMWARE") as dev:
            self.assertEqual(dev.alt, 2)
            events = []
            report = dev.download(dfuflash.Image.from_bytes(fw, 0, alt=dev.alt), progress=events.append)
            self.assertEqual((report.bytes_written, report.bytes_verified), (len(fw), len(fw)))
            for phase in (dfuflash.PHASE_WRITE, dfuflash.PHASE_VERIFY):
                last = [e for e in events if e.phase == phase][-1]
                self.assertEqual((last.done, last.total), (len(fw), len(fw)))
            self.assertEqual(dev.upload(0, len(fw)), fw)
            dev.select_alt("ROMFS0")
            self.assertEqual(dev.alt, 4)
            dev.download(dfuflash.Image.from_bytes(romfs, 0, alt=4))
            self.assertEqual(dev.upload(0, len(romfs)), romfs)
            # The 128 KB FILESYSTEM read past its end: the 4-byte end frame is data.
            dev.select_alt("FILESYSTEM")
            whole = dev.upload(0, 128 * 1024 + 4)
            self.assertEqual(whole, b"\xff" * (128 * 1024) + b"\0" * 4)
            dev.leave()
            self.assertTrue(dev.report.left)

    def test_discovery_and_selection(self):
        sims = [d for d in dfuflash.list_devices(include_simulated=True) if d.simulated]
        self.assertEqual(len(sims), 22)
        # dfu-util's quirks, applied: the GD32VF103's layout comes from its part number.
        gd32 = next(d for d in sims if d.path == "sim:gd32vf103")
        self.assertEqual(gd32.alt_settings[0], (0, "@Internal Flash  /0x08000000/128*001Kg", 128))
        self.assertEqual([q.split(":")[0] for q in gd32.quirks], ["utf8-serial", "gd32vf103-layout", "leave-without-status"])
        bogus = next(d for d in sims if d.path == "sim:bogus-poll")
        self.assertEqual([q.split(":")[0] for q in bogus.quirks], ["ignore-poll-timeout"])
        self.assertTrue(all(d.quirks == [] for d in sims if d not in (gd32, bogus)))
        revv = next(d for d in sims if d.path == "sim:stm32h743-revv")
        self.assertEqual((revv.vendor_id, revv.product_id, revv.serial, revv.transfer_size), (0x0483, 0xDF11, "200364500000", 1024))
        self.assertEqual(revv.alt_settings[0], (0, "@Internal Flash   /0x08000000/16*128Kg", 16))
        with dfuflash.open(path="sim:stm32f405", alt="@Option Bytes", include_simulated=True) as dev:
            self.assertEqual(len(dev.upload(0x1FFFC000, 16)), 16)

    def test_calls_without_callbacks_never_enter_python(self):
        image = dfuflash.Image.from_bytes(bytes(range(256)) * 64, 0x08020000)
        with dfuflash.open_simulated("stm32h743-revy") as dev:
            before = dfuflash._TRAMPOLINE_CALLS[0]
            dev.download(image)
            self.assertEqual(dfuflash._TRAMPOLINE_CALLS[0], before, "no trampoline without callbacks")
            events = []
            dev.download(image, progress=events.append)
            self.assertEqual(dfuflash._TRAMPOLINE_CALLS[0] - before, len(events))

    def test_four_threads_flash_four_boards_independently(self):
        images = [bytes([i]) * 0x20000 for i in range(1, 5)]
        devices = [dfuflash.open_simulated(m) for m in ("stm32h743-revv", "stm32h743-revy", "stm32f405", "stm32l4")]
        addresses = [0x08100000, 0x08020000, 0x08020000, 0x08020000]
        reports = [None] * 4

        def flash(i):
            reports[i] = devices[i].download(dfuflash.Image.from_bytes(images[i], addresses[i]))

        threads = [threading.Thread(target=flash, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for i, dev in enumerate(devices):
            self.assertEqual(reports[i].bytes_verified, len(images[i]))
            self.assertEqual(dev.upload(addresses[i], 16), images[i][:16])
            dev.close()

    def test_an_open_device_says_what_it_is_and_changes_alt_setting(self):
        with dfuflash.open(path="sim:stm32h743-revv", include_simulated=True) as dev:
            info = dev.info
            self.assertEqual((info.vendor_id, info.product_id, info.serial, info.path), (0x0483, 0xDF11, "200364500000", "sim:stm32h743-revv"))
            self.assertEqual(info.alt_settings[1][0:2], (1, "@Option Bytes   /0x5200201C/01*128 e"))
            self.assertEqual(dev.alt, 0)
            dev.select_alt("@Option Bytes")
            self.assertEqual(dev.alt, 1)
            with self.assertRaises(dfuflash.DeviceError) as cm:
                dev.select_alt(9)
            self.assertEqual(cm.exception.code, 308)
            with self.assertRaises(dfuflash.RefusedError) as cm:
                dev.download(dfuflash.Image.from_bytes(b"\0" * 32, 0x08000000))
            self.assertEqual(cm.exception.code, 506)
            self.assertIn("alt setting 0, but alt setting 1 is selected", cm.exception.message)
            self.assertEqual(dev.upload(0x5200201C, 4), b"\xff" * 4)
        with dfuflash.open_simulated("stm32h743-revy", alt="@Option Bytes") as dev:
            self.assertEqual(dev.alt, 1)
        dev = dfuflash.open_simulated("stm32l4")
        dev.close()
        with self.assertRaises(dfuflash.ClosedError):
            dev.upload(0x08000000, 4)

    def test_a_board_the_environment_attaches_is_an_attached_device(self):
        state = os.path.join(self.dir.name, "env-board.state")
        os.environ["DFUFLASH_SIM"] = "stm32f405"
        os.environ["DFUFLASH_SIM_STATE"] = state
        try:
            found = [d for d in dfuflash.list_devices() if d.path == "sim:stm32f405"]
            self.assertEqual(len(found), 1)
            with dfuflash.open(0x0483, 0xDF11) as dev:
                self.assertEqual(dev.info.path, "sim:stm32f405")
                dev.download(dfuflash.Image.from_bytes(b"\x42" * 4096, 0x08004000))
            with dfuflash.open(0x0483, 0xDF11) as dev:
                self.assertEqual(dev.upload(0x08004000, 4096), b"\x42" * 4096)
        finally:
            del os.environ["DFUFLASH_SIM"], os.environ["DFUFLASH_SIM_STATE"]

    def test_open_and_close_a_thousand_times_keeps_memory_flat(self):
        def rss_kb():
            with open("/proc/self/statm") as f:
                return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024

        for _ in range(50):  # warm up allocator pools
            dfuflash.open_simulated("stm32f405").close()
        before = rss_kb()
        for _ in range(1000):
            dev = dfuflash.open_simulated("stm32f405")
            dev.close()
            dev.close()  # idempotent
        growth = rss_kb() - before
        # Each device holds about 1 MB of simulated flash: a leak of even one per open would
        # show as a gigabyte.
        self.assertLess(growth, 8 * 1024, f"RSS grew by {growth} KB")


if __name__ == "__main__":
    unittest.main()
