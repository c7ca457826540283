#!/usr/bin/env python3
"""Four simulated boards flashed one after another, then from four threads at once, with and
without a progress callback: prints the wall times and the speed-up. The simulator's work is
CPU time, so the speed-up is bounded by the cores (2 on the CI machines).

    python3 examples/python/parallel_bench.py [--size BYTES] [--rounds N]
"""

import argparse
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "bindings", "python"))
import dfuflash  # noqa: E402

MODELS = ("stm32h743-revy", "stm32h743-revv", "stm32h743-revy", "stm32h743-revv")


def flash_all(image_bytes, threaded, with_callback):
    devices = [dfuflash.open_simulated(m) for m in MODELS]
    images = [dfuflash.Image.from_bytes(image_bytes, 0x08040000) for _ in MODELS]
    kwargs = {"progress": (lambda p: None)} if with_callback else {}
    reports = [None] * len(devices)

    def one(i):
        reports[i] = devices[i].download(images[i], **kwargs)

    start = time.perf_counter()
    if threaded:
        threads = [threading.Thread(target=one, args=(i,)) for i in range(len(devices))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    else:
        for i in range(len(devices)):
            one(i)
    wall = time.perf_counter() - start
    for r in reports:
        assert r.bytes_verified == len(image_bytes), r
    for d in devices:
        d.close()
    return wall


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=0x180000, help="image bytes per board (default 1.5 MiB)")
    ap.add_argument("--rounds", type=int, default=5, help="best of N rounds")
    a = ap.parse_args()
    data = bytes((i * 7 + 3) & 0xFF for i in range(a.size))
    print(f"library {dfuflash._lib._name}, {os.cpu_count()} cores, {a.size} bytes per board, best of {a.rounds}")
    for with_callback in (False, True):
        serial = min(flash_all(data, False, with_callback) for _ in range(a.rounds))
        parallel = min(flash_all(data, True, with_callback) for _ in range(a.rounds))
        label = "with a progress callback" if with_callback else "no callbacks"
        print(f"{label:>25}: serial {serial * 1e3:7.1f} ms, 4 threads {parallel * 1e3:7.1f} ms, speed-up {serial / parallel:.2f}x")


if __name__ == "__main__":
    main()
