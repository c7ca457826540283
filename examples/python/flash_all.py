#!/usr/bin/env python3
"""Flash every attached DFU board at once, one thread per board, through the library's
ordinary API: list the boards, open each by its port path (every STM32H7 ROM reports the same
serial), download. Each thread has its own device handle and image, and no callbacks, so the
boards run in parallel and one board's failure touches no other.

    python3 examples/python/flash_all.py [--address ADDR] [--full] FILE

Prints one line per board (port path, serial, result and times) and exits 1 if any board failed. Boards
attached through DFUFLASH_SIM are listed like USB boards:

    DFUFLASH_SIM=stm32h743-revv,stm32h743-revv python3 examples/python/flash_all.py --address 0x08040000 fw.bin
"""
import argparse
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "bindings", "python"))
import dfuflash  # noqa: E402


def flash_one(board: dfuflash.DeviceInfo, file: str, address, full: bool, results: dict) -> None:
    """Opens the board by port path and flashes it; stores its result line."""
    start = time.perf_counter()
    try:
        with dfuflash.open(path=board.path) as dev, dfuflash.Image.load(file, address=address) as image:
            r = dev.download(image, full=full)
        wall = time.perf_counter() - start
        skipped = f", {len(r.sectors_skipped)} unchanged sectors skipped" if r.sectors_skipped else ""
        results[board.path] = (True, f"verified {r.bytes_verified} bytes{skipped}, "
                                     f"{r.elapsed_seconds:.2f} s device time, {wall:.2f} s wall")
    except dfuflash.DfuflashError as e:
        results[board.path] = (False, f"failed: {e.message}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--address", type=lambda s: int(s, 0), help="address of a raw binary")
    ap.add_argument("--full", action="store_true", help="erase and write every planned sector")
    ap.add_argument("file")
    a = ap.parse_args()
    boards = [b for b in dfuflash.list_devices() if not b.runtime_mode]
    if not boards:
        print("flash_all.py: no DFU board attached", file=sys.stderr)
        return 1
    results: dict = {}
    threads = [threading.Thread(target=flash_one, args=(b, a.file, a.address, a.full, results)) for b in boards]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    width = max(len(b.path) for b in boards)
    for b in boards:
        ok, text = results.get(b.path, (False, "failed: no result"))
        print(f"{b.path:<{width}}  {b.serial or '-':<12}  {text}")
    failed = [b.path for b in boards if not results.get(b.path, (False,))[0]]
    if failed:
        print(f"flash_all.py: {len(failed)} of {len(boards)} boards failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
