#!/usr/bin/env python3
"""Flash a firmware file with a text progress bar.

    python3 examples/python/flash.py [--sim MODEL] [--address ADDR] [--leave] FILE

Without --sim it opens the one DFU device on USB.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "bindings", "python"))
import dfuflash  # noqa: E402

NAMES = {dfuflash.PHASE_COMPARE: "compare", dfuflash.PHASE_ERASE: "erase", dfuflash.PHASE_WRITE: "write",
         dfuflash.PHASE_VERIFY: "verify", dfuflash.PHASE_READ: "read", dfuflash.PHASE_LEAVE: "leave",
         dfuflash.PHASE_BOOT: "boot"}


def bar(p: dfuflash.Progress) -> None:
    width = 40
    filled = width if not p.total else p.done * width // p.total
    unit = "sectors" if p.phase == dfuflash.PHASE_ERASE else "bytes"
    end = "\n" if p.done == p.total else ""
    sys.stderr.write(f"\r{NAMES.get(p.phase, 'work'):>7} [{'=' * filled}{' ' * (width - filled)}] {p.done}/{p.total} {unit}{end}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sim", metavar="MODEL")
    ap.add_argument("--address", type=lambda s: int(s, 0))
    ap.add_argument("--leave", action="store_true")
    ap.add_argument("file")
    a = ap.parse_args()
    try:
        image = dfuflash.Image.load(a.file, address=a.address)
        dev = dfuflash.open_simulated(a.sim) if a.sim else dfuflash.open()
        with dev, image:
            r = dev.download(image, progress=bar, leave=a.leave,
                             log=lambda level, m: level >= 2 and sys.stderr.write(f"\nwarning: {m}\n"))
    except dfuflash.DfuflashError as e:
        print(f"flash.py: {e.message}", file=sys.stderr)
        return 1
    print(f"flashed: {len(r.sectors_erased)} sectors erased, {len(r.sectors_skipped)} unchanged sectors skipped, "
          f"{r.bytes_verified} bytes verified, {r.requests} requests")
    if r.workaround_sectors:
        print("STM32H7 Rev V erase recovery used for: " + " ".join(f"0x{a:08x}" for a in r.workaround_sectors))
    for t in r.targets:
        print(f"alt {t.alt} sha256 {t.sha256}")
    for s in r.segments:
        back = "not read back" if s.readback_crc32 is None else f"read back {s.readback_crc32:08x}"
        print(f"segment 0x{s.address:08x}, {s.length} bytes: crc32 {s.crc32:08x}, {back}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
