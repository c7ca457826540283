"""dfuflash: flash USB DFU 1.1 and ST DfuSe devices (STM32H7 Rev V included) from Python.

A thin ctypes layer over the dfuflash C library: every call checks its status and raises a
:class:`DfuflashError` subclass carrying the code and the library's message.

>>> import dfuflash
>>> with dfuflash.open_simulated("stm32h743-revv") as dev:
...     report = dev.download(dfuflash.Image.from_bytes(b"\\x42" * 4096, 0x08100000))
...     report.workaround_sectors
[135266304]

The library is found through ``DFUFLASH_LIBRARY`` (a path), then a copy inside this package,
then a cargo build tree above it (the newer of ``target/release`` and ``target/debug``).
"""

from __future__ import annotations

import ctypes
from ctypes import POINTER, byref, c_size_t, c_uint8, c_uint32, c_void_p
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence

from ._native import (
    _LOG_CB,
    _PROGRESS_CB,
    ABI_MAJOR,
    LAYOUT_MINOR,
    LIB_ABI_MINOR,
    __version__,
    _AltDesc,
    _check,
    _DeviceDesc,
    _LayoutReport,
    _lib,
    _PartitionRecord,
    _Report,
    _s,
    _SegmentRecord,
    _sized,
    _TargetRecord,
)
from .errors import (
    ArgumentError,
    BusyError,
    CancelledError,
    ClosedError,
    DeviceError,
    DfuflashError,
    FileError,
    LayoutError,
    PanicError,
    RefusedError,
    TsvError,
    UsbError,
    VerifyError,
)
from .records import (
    DeviceInfo,
    LayoutReport,
    PartitionRecord,
    Report,
    SegmentRecord,
    TargetRecord,
    _device_info,
    _filled_text,
)

__all__ = [
    "ABI_MAJOR",
    "Device",
    "DeviceInfo",
    "Image",
    "LayoutReport",
    "PartitionRecord",
    "Progress",
    "Report",
    "SegmentRecord",
    "TargetRecord",
    "list_devices",
    "open",
    "open_simulated",
    "DfuflashError",
    "ArgumentError",
    "PanicError",
    "BusyError",
    "ClosedError",
    "UsbError",
    "DeviceError",
    "FileError",
    "RefusedError",
    "CancelledError",
    "VerifyError",
    "LayoutError",
    "TsvError",
    "PHASE_ERASE",
    "PHASE_WRITE",
    "PHASE_VERIFY",
    "PHASE_READ",
    "PHASE_LEAVE",
    "PHASE_COMPARE",
    "PHASE_BOOT",
]

PHASE_ERASE, PHASE_WRITE, PHASE_VERIFY, PHASE_READ, PHASE_LEAVE, PHASE_COMPARE, PHASE_BOOT = 1, 2, 3, 4, 5, 6, 7
_CONTINUE, _CANCEL = 0, 1
_LIST_SIMULATED = 1
_OPT_VERIFY, _OPT_LEAVE, _OPT_MASS_ERASE, _OPT_WORKAROUNDS = 1, 2, 3, 4
_OPT_ALLOW_OPTION_BYTES, _OPT_ALLOW_OTP, _OPT_CHECK_SUFFIX, _OPT_FULL = 5, 6, 7, 8
_OPT_BOOT_LAST = 9
_TIMEOUTS = {"control": 1, "status": 2, "erase": 3, "mass_erase": 4, "command": 5, "manifest": 6, "job": 7,
             "reenumerate": 8}


# --- callbacks: one module-level trampoline each, kept alive for the life of the module ----------

@dataclass
class Progress:
    """A progress event: phase (PHASE_*), units done of total, the address, and for erases the
    sector's layout index and its position k of n in the job (else -1, 0, 0)."""

    phase: int
    done: int
    total: int
    address: int
    sector_index: int
    sector_k: int
    sector_n: int


class _Call:
    """The Python side of one C call: the user's callables and an exception they raised."""

    def __init__(self, progress, log):
        self.progress = progress
        self.log = log
        self.error: Optional[BaseException] = None


_CALLS: Dict[int, _Call] = {}
# How many times C called back into Python: a call without callbacks must cost none.
_TRAMPOLINE_CALLS = [0]


@_PROGRESS_CB
def _progress_trampoline(user_data, p):
    _TRAMPOLINE_CALLS[0] += 1
    call = _CALLS.get(user_data or 0)
    if call is None or call.progress is None or call.error is not None:
        return _CANCEL if call is not None and call.error is not None else _CONTINUE
    try:
        e = p.contents
        result = call.progress(Progress(e.phase, e.done, e.total, e.address, e.sector_index, e.sector_k, e.sector_n))
        return _CANCEL if result is False else _CONTINUE
    except BaseException as exc:  # re-raised by the caller after the C call returns
        call.error = exc
        return _CANCEL


@_LOG_CB
def _log_trampoline(user_data, level, message):
    _TRAMPOLINE_CALLS[0] += 1
    call = _CALLS.get(user_data or 0)
    if call is None or call.log is None or call.error is not None:
        return
    try:
        call.log(level, message.decode(errors="replace"))
    except BaseException as exc:
        call.error = exc


# --- objects --------------------------------------------------------------------------------

class _Handle:
    _free = None

    def __init__(self, ptr: int):
        self._ptr = c_void_p(ptr)

    def close(self) -> None:
        """Frees the C object; calling it again does nothing."""
        if self._ptr:
            type(self)._free(self._ptr)
            self._ptr = c_void_p()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    @property
    def _p(self) -> c_void_p:
        if not self._ptr:
            raise ClosedError(104, f"this {type(self).__name__} is closed")
        return self._ptr


class Image(_Handle):
    """A firmware image: targets (alt settings) of address/bytes segments."""

    _free = staticmethod(_lib.dfuflash_image_free)

    @classmethod
    def load(cls, path: str, address: Optional[int] = None, alt: int = 0) -> "Image":
        """Reads a file of any supported format; a raw binary needs ``address``."""
        out = c_void_p()
        _check(_lib.dfuflash_image_load(_s(str(path)), address or 0, address is not None, alt, byref(out)))
        return cls(out.value)

    @classmethod
    def from_bytes(cls, data: bytes, address: int, alt: int = 0) -> "Image":
        """An image of ``data`` (copied) at ``address``."""
        out = c_void_p()
        _check(_lib.dfuflash_image_from_memory(bytes(data), len(data), address, alt, byref(out)))
        return cls(out.value)

    @property
    def targets(self) -> List[tuple]:
        """[(alt, [(address, bytes), ...]), ...]"""
        out = []
        for t in range(_lib.dfuflash_image_target_count(self._p)):
            alt, n = c_uint8(), c_size_t()
            _check(_lib.dfuflash_image_target(self._p, t, byref(alt), byref(n)))
            segs = []
            for s in range(n.value):
                a, ptr, ln = c_uint32(), POINTER(c_uint8)(), c_size_t()
                _check(_lib.dfuflash_image_segment(self._p, t, s, byref(a), byref(ptr), byref(ln)))
                segs.append((a.value, ctypes.string_at(ptr, ln.value)))
            out.append((alt.value, segs))
        return out


def list_devices(include_simulated: bool = False) -> List[DeviceInfo]:
    """Every DFU device on USB, and the simulated models when ``include_simulated``."""
    lst = c_void_p()
    _check(_lib.dfuflash_device_list_new(_LIST_SIMULATED if include_simulated else 0, byref(lst)))
    try:
        out = []
        for i in range(_lib.dfuflash_device_list_count(lst)):
            d = _sized(_DeviceDesc)
            _check(_lib.dfuflash_device_list_get(lst, i, byref(d)))
            alts = []
            for a in range(d.alt_count):
                ad = _sized(_AltDesc)
                _check(_lib.dfuflash_device_list_alt(lst, i, a, byref(ad)))
                alts.append(ad)
            out.append(_device_info(d, alts))
        return out
    finally:
        _lib.dfuflash_device_list_free(lst)


class _Options(_Handle):
    _free = staticmethod(_lib.dfuflash_options_free)


class Device(_Handle):
    """An open DFU device. One thread at a time; :meth:`cancel` works from any thread."""

    _free = staticmethod(_lib.dfuflash_device_close)

    def _options(self, call: _Call, verify=True, leave=False, leave_address=None, mass_erase=False,
                 workarounds=True, allow_option_bytes=False, allow_otp=False, check_suffix=True,
                 full=False, boot_last=True, timeout: Optional[float] = None,
                 timeouts_ms: Optional[Dict[str, int]] = None) -> _Options:
        out = c_void_p()
        _check(_lib.dfuflash_options_new(byref(out)))
        o = _Options(out.value)
        for flag, on in ((_OPT_VERIFY, verify), (_OPT_LEAVE, leave), (_OPT_MASS_ERASE, mass_erase),
                         (_OPT_WORKAROUNDS, workarounds), (_OPT_ALLOW_OPTION_BYTES, allow_option_bytes),
                         (_OPT_ALLOW_OTP, allow_otp), (_OPT_CHECK_SUFFIX, check_suffix),
                         (_OPT_FULL, full), (_OPT_BOOT_LAST, boot_last)):
            _check(_lib.dfuflash_options_set_flag(o._p, flag, on))
        if leave_address is not None:
            _check(_lib.dfuflash_options_set_leave_address(o._p, leave_address))
        timeouts_ms = dict(timeouts_ms or {})
        if timeout is not None:
            if not timeout > 0:
                raise ValueError(f"timeout {timeout!r}: give the seconds the whole operation may take, above 0")
            timeouts_ms["job"] = max(1, round(timeout * 1000))
        for name, ms in timeouts_ms.items():
            if name not in _TIMEOUTS:
                raise ValueError(f"unknown timeout {name!r}; known: {', '.join(_TIMEOUTS)}")
            _check(_lib.dfuflash_options_set_timeout_ms(o._p, _TIMEOUTS[name], ms))
        # Only the callbacks asked for: each one costs a trip into Python (and the GIL) per block.
        # A log callback brings the progress one too: an exception it raises cancels the job
        # there, as the log callback itself cannot.
        if call.progress is not None or call.log is not None:
            _check(_lib.dfuflash_options_set_progress_callback(o._p, _progress_trampoline))
        if call.log is not None:
            _check(_lib.dfuflash_options_set_log_callback(o._p, _log_trampoline))
        _check(_lib.dfuflash_options_set_user_data(o._p, id(call)))
        return o

    def _run(self, progress, log, fn, **opts) -> None:
        call = _Call(progress, log)
        _CALLS[id(call)] = call
        try:
            with self._options(call, **opts) as o:
                code = fn(o._p)
        finally:
            del _CALLS[id(call)]
        if call.error is not None:
            raise call.error
        _check(code)

    def download(self, image: Image, *, progress: Optional[Callable[[Progress], object]] = None,
                 log: Optional[Callable[[int, str], object]] = None, **options) -> Report:
        """Plans, erases, writes, verifies and optionally leaves. ``progress`` may return False
        to cancel; an exception it raises cancels and is re-raised here. Options: verify, leave,
        leave_address, mass_erase, workarounds, allow_option_bytes, allow_otp, check_suffix,
        full (erase and write every planned sector instead of skipping those already equal),
        boot_last (on by default: the image's first block, its vector table, is written last,
        after the rest is written and verified; off for images whose first block is not one),
        timeout (seconds the whole operation may take; by default an allowance for its work;
        past it DeviceError with code DFUFLASH_ERR_JOB_TIMEOUT), timeouts_ms (control, status,
        erase, mass_erase, command, manifest, job)."""
        self._run(progress, log, lambda o: _lib.dfuflash_download(self._p, image._p, o), **options)
        return self.report

    def flash_layout(self, path: str, *, progress: Optional[Callable[[Progress], object]] = None,
                     log: Optional[Callable[[int, str], object]] = None, timeout: Optional[float] = None,
                     timeouts_ms: Optional[Dict[str, int]] = None) -> LayoutReport:
        """Flashes an ST FlashLayout.tsv (binaries relative to its directory) through the
        serial-boot phase protocol, following the board across each boot stage until it reports
        the end; the board has then left DFU mode. ``progress`` and ``log`` as for
        :meth:`download`; timeout and timeouts_ms as there, plus "reenumerate" (ms each new boot
        stage may take to appear). Raises TsvError naming the line and column, FileError for a
        binary that cannot be read, LayoutError for the phase protocol's failures."""
        if LIB_ABI_MINOR < LAYOUT_MINOR:
            raise NotImplementedError(f"the loaded libdfuflash implements ABI {ABI_MAJOR}.{LIB_ABI_MINOR}; "
                                      f"flash_layout needs {ABI_MAJOR}.{LAYOUT_MINOR}: load a newer library")
        out = _sized(_LayoutReport)
        self._run(progress, log, lambda o: _lib.dfuflash_flash_layout(self._p, _s(str(path)), o, byref(out)),
                  timeout=timeout, timeouts_ms=timeouts_ms)
        partitions = []
        for i in range(out.partition_count):
            p = _sized(_PartitionRecord)
            _check(_lib.dfuflash_device_layout_partition(self._p, i, byref(p)))
            partitions.append(PartitionRecord(p.name.decode("utf-8", "replace"), p.id, p.bytes,
                                              p.crc32 if p.has_crc32 else None,
                                              p.readback_crc32 if p.read_back else None,
                                              p.downloads, p.alt if p.alt >= 0 else None))
        return LayoutReport(partitions, [out.phases[i] for i in range(out.phase_count)], out.reenumerations,
                            out.requests, out.elapsed_seconds, out.wall_seconds)

    def erase(self, address: int = 0, length: int = 0, *, mass: bool = False, progress=None, log=None, **options) -> Report:
        """Erases the sectors of [address, address + length), or everything with ``mass``."""
        self._run(progress, log, lambda o: _lib.dfuflash_erase(self._p, o, address, length, mass), **options)
        return self.report

    def upload(self, address: int, length: int, *, progress=None, log=None, **options) -> bytes:
        """Reads ``length`` bytes at ``address`` of the current alt setting."""
        buf = ctypes.create_string_buffer(length)
        self._run(progress, log, lambda o: _lib.dfuflash_upload(self._p, o, address, buf, length), **options)
        return buf.raw

    def leave(self, address: Optional[int] = None) -> None:
        """Leaves DFU mode (jumping to ``address`` on DfuSe devices). A device that answers it
        is still in DFU mode raises DeviceError (DFUFLASH_ERR_UNEXPECTED_STATE)."""
        _check(_lib.dfuflash_leave(self._p, address or 0, address is not None))

    def cancel(self) -> None:
        """Cancels the operation in progress, from any thread."""
        _check(_lib.dfuflash_cancel(self._p))

    @property
    def info(self) -> "DeviceInfo":
        """What the device is: ids, strings, port path, mode, transfer size, alt settings
        (a wildcard open says here what it picked)."""
        d = _sized(_DeviceDesc)
        _check(_lib.dfuflash_device_info(self._p, byref(d)))
        alts = []
        for a in range(d.alt_count):
            ad = _sized(_AltDesc)
            _check(_lib.dfuflash_device_alt(self._p, a, byref(ad)))
            alts.append(ad)
        return _device_info(d, alts)

    @property
    def alt(self) -> int:
        """The alt setting operations use now."""
        a = c_uint8()
        _check(_lib.dfuflash_device_current_alt(self._p, byref(a)))
        return a.value

    def select_alt(self, alt) -> None:
        """Selects another alt setting: a number, or a name such as "@Option Bytes". Images
        for another alt setting are then refused (RefusedError)."""
        if isinstance(alt, str):
            _check(_lib.dfuflash_device_select_alt(self._p, -1, _s(alt)))
        else:
            _check(_lib.dfuflash_device_select_alt(self._p, alt, None))

    def set_sim_faults(self, spec: str) -> None:
        """Simulated devices: arm faults (``KIND@REQUEST,...``)."""
        _check(_lib.dfuflash_device_set_sim_faults(self._p, _s(spec)))

    @property
    def report(self) -> Report:
        """The report of the last successful operation."""
        r = _sized(_Report)
        _check(_lib.dfuflash_device_report(self._p, byref(r)))
        targets = []
        for i in range(r.target_count):
            t = _sized(_TargetRecord)
            _check(_lib.dfuflash_device_report_target(self._p, i, byref(t)))
            targets.append(TargetRecord(t.alt, t.bytes, bytes(t.sha256).hex()))
        segments = []
        for i in range(r.segment_count):
            g = _sized(_SegmentRecord)
            _check(_lib.dfuflash_device_report_segment(self._p, i, byref(g)))
            segments.append(SegmentRecord(g.alt, g.address, g.length, g.crc32,
                                          g.readback_crc32 if g.read_back else None))
        return Report(r.bytes_written, r.bytes_verified, r.requests,
                      [r.sectors_erased[i] for i in range(r.sectors_erased_count)],
                      [r.workaround_sectors[i] for i in range(r.workaround_sectors_count)],
                      r.mass_erased, r.left, r.elapsed_seconds, r.wall_seconds, r.device_busy_seconds,
                      [r.sectors_skipped[i] for i in range(r.sectors_skipped_count)],
                      r.bytes_checked, r.sectors_planned, r.boot_block if r.has_boot_block else None,
                      targets, segments, _filled_text(r, "unverified"))


def open(vid: int = 0, pid: int = 0, serial: Optional[str] = None, path: Optional[str] = None,
         alt=None, include_simulated: bool = False) -> Device:  # noqa: A001 (the API's name)
    """Opens the one device that matches (0 / None match anything); ``alt`` is a number or a
    name such as "@Internal Flash". Several matches raise UsbError listing them."""
    out = c_void_p()
    alt_num = alt if isinstance(alt, int) else -1
    alt_name = alt if isinstance(alt, str) else None
    _check(_lib.dfuflash_open(vid, pid, _s(serial), _s(path), alt_num, _s(alt_name),
                              _LIST_SIMULATED if include_simulated else 0, byref(out)))
    return Device(out.value)


def open_simulated(model: str, state_file: Optional[str] = None, alt=-1) -> Device:
    """Opens a simulated device (a model name, e.g. "stm32h743-revv"), its memory kept in
    ``state_file`` when given; ``alt`` is a number or a name such as "@Option Bytes"."""
    out = c_void_p()
    by_number = alt if isinstance(alt, int) else -1
    _check(_lib.dfuflash_open_simulated(_s(model), _s(state_file), by_number, byref(out)))
    dev = Device(out.value)
    if isinstance(alt, str):
        try:
            dev.select_alt(alt)
        except BaseException:
            dev.close()
            raise
    return dev


def _models() -> Sequence[str]:
    return [d.path[4:] for d in list_devices(True) if d.simulated and d.path]
