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
import os
import pathlib
import sys
from ctypes import (
    CFUNCTYPE,
    POINTER,
    Structure,
    byref,
    c_bool,
    c_char_p,
    c_double,
    c_int32,
    c_size_t,
    c_uint8,
    c_uint16,
    c_uint32,
    c_uint64,
    c_void_p,
    sizeof,
)
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence

__all__ = [
    "ABI_MAJOR",
    "Device",
    "DeviceInfo",
    "Image",
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
    "PHASE_ERASE",
    "PHASE_WRITE",
    "PHASE_VERIFY",
    "PHASE_READ",
    "PHASE_LEAVE",
    "PHASE_COMPARE",
    "PHASE_BOOT",
]

ABI_MAJOR = 3
_ABI_MINOR = 0
PHASE_ERASE, PHASE_WRITE, PHASE_VERIFY, PHASE_READ, PHASE_LEAVE, PHASE_COMPARE, PHASE_BOOT = 1, 2, 3, 4, 5, 6, 7
_CONTINUE, _CANCEL = 0, 1
_LIST_SIMULATED = 1
_OPT_VERIFY, _OPT_LEAVE, _OPT_MASS_ERASE, _OPT_WORKAROUNDS = 1, 2, 3, 4
_OPT_ALLOW_OPTION_BYTES, _OPT_ALLOW_OTP, _OPT_CHECK_SUFFIX, _OPT_FULL = 5, 6, 7, 8
_OPT_BOOT_LAST = 9
_TIMEOUTS = {"control": 1, "status": 2, "erase": 3, "mass_erase": 4, "command": 5, "manifest": 6, "job": 7}


# --- errors ---------------------------------------------------------------------------------

class DfuflashError(Exception):
    """A failed dfuflash call: ``code`` is the C status, ``message`` the library's detail."""

    def __init__(self, code: int, message: str):
        super().__init__(f"{message} (dfuflash status {code})")
        self.code = code
        self.message = message


class ArgumentError(DfuflashError):
    """Caller misuse (100-199): a NULL or invalid argument, a closed handle (ClosedError)."""


class PanicError(DfuflashError):
    """An internal error (102) was contained; the library and the device stay usable."""


class BusyError(DfuflashError):
    """The device is in use by another call (103): one operation at a time per device."""


class ClosedError(ArgumentError):
    """The object was closed (104, or closed on the Python side)."""


class UsbError(DfuflashError):
    """USB (200-299): disconnected, stall, timeout, not found, ambiguous, access, busy."""


class DeviceError(DfuflashError):
    """The device (300-399): error status, stuck busy, unexpected state, Rev V recovery."""


class FileError(DfuflashError):
    """Firmware files (400-499): malformed, unreadable, suffix for another device."""


class RefusedError(DfuflashError):
    """Refused before any request (500-599): outside the layout, protected memory."""


class CancelledError(DfuflashError):
    """Cancelled (600); the device was left in dfuIDLE."""


class VerifyError(DfuflashError):
    """Read-back differs (700-799)."""


_GROUPS = {1: ArgumentError, 2: UsbError, 3: DeviceError, 4: FileError, 5: RefusedError, 6: CancelledError, 7: VerifyError}
_CODES = {102: PanicError, 103: BusyError, 104: ClosedError}


# --- C structures ---------------------------------------------------------------------------

class _Progress(Structure):
    _fields_ = [
        ("size", c_uint32),
        ("phase", c_int32),
        ("done", c_uint64),
        ("total", c_uint64),
        ("address", c_uint32),
        ("sector_index", c_int32),
        ("sector_k", c_int32),
        ("sector_n", c_int32),
    ]


class _Report(Structure):
    _fields_ = [
        ("size", c_uint32),
        ("bytes_written", c_uint64),
        ("bytes_verified", c_uint64),
        ("requests", c_uint64),
        ("sectors_erased", POINTER(c_uint32)),
        ("sectors_erased_count", c_size_t),
        ("workaround_sectors", POINTER(c_uint32)),
        ("workaround_sectors_count", c_size_t),
        ("mass_erased", c_bool),
        ("left", c_bool),
        ("elapsed_seconds", c_double),
        ("wall_seconds", c_double),
        ("device_busy_seconds", c_double),
        ("sectors_skipped", POINTER(c_uint32)),
        ("sectors_skipped_count", c_size_t),
        ("bytes_checked", c_uint64),
        ("sectors_planned", c_size_t),
        ("has_boot_block", c_bool),
        ("boot_block", c_uint32),
        ("target_count", c_size_t),
        ("segment_count", c_size_t),
        ("unverified", c_char_p),  # ABI 3.1
    ]


class _DeviceDesc(Structure):
    _fields_ = [
        ("size", c_uint32),
        ("vendor_id", c_uint16),
        ("product_id", c_uint16),
        ("bcd_device", c_uint16),
        ("dfu_version", c_uint16),
        ("transfer_size", c_uint16),
        ("attributes", c_uint8),
        ("mode", c_int32),
        ("manufacturer", c_char_p),
        ("product", c_char_p),
        ("serial", c_char_p),
        ("path", c_char_p),
        ("alt_count", c_size_t),
        ("simulated", c_bool),
        ("incomplete", c_char_p),
        ("driver", c_char_p),
        ("driver_problem", c_char_p),
        ("quirks", c_char_p),
    ]


class _AltDesc(Structure):
    _fields_ = [
        ("size", c_uint32),
        ("alt", c_uint8),
        ("name", c_char_p),
        ("has_layout", c_bool),
        ("sector_count", c_size_t),
        ("layout_error", c_char_p),
    ]


class _TargetRecord(Structure):
    _fields_ = [("size", c_uint32), ("alt", c_uint8), ("bytes", c_uint64), ("sha256", c_uint8 * 32)]


class _SegmentRecord(Structure):
    _fields_ = [
        ("size", c_uint32),
        ("alt", c_uint8),
        ("address", c_uint32),
        ("length", c_uint64),
        ("crc32", c_uint32),
        ("read_back", c_bool),
        ("readback_crc32", c_uint32),
        ("reserved", c_uint32),
    ]


def _sized(cls):
    """A struct the library fills, its size set as ABI 3 asks."""
    s = cls()
    s.size = sizeof(cls)
    return s


_PROGRESS_CB = CFUNCTYPE(c_int32, c_void_p, POINTER(_Progress))
_LOG_CB = CFUNCTYPE(None, c_void_p, c_int32, c_char_p)


# --- loading --------------------------------------------------------------------------------

def _candidates() -> List[pathlib.Path]:
    names = {"linux": ["libdfuflash.so"], "darwin": ["libdfuflash.dylib"], "win32": ["dfuflash.dll"]}.get(
        sys.platform, ["libdfuflash.so"]
    )
    out = []
    env = os.environ.get("DFUFLASH_LIBRARY")
    if env:
        out.append(pathlib.Path(env))
    here = pathlib.Path(__file__).resolve().parent
    out += [here / n for n in names]
    for parent in here.parents:
        # In a build tree, the newer of the release and debug builds: a stale release build
        # left beside a fresh debug one must not win.
        built = [parent / "target" / profile / n for profile in ("release", "debug") for n in names]
        out += sorted(built, key=lambda p: p.stat().st_mtime if p.exists() else 0, reverse=True)
    return out


def _load() -> ctypes.CDLL:
    tried = []
    for path in _candidates():
        if path.exists():
            lib = ctypes.CDLL(str(path))
            lib.dfuflash_abi_version.restype = c_uint32
            lib.dfuflash_abi_version.argtypes = []
            abi = lib.dfuflash_abi_version()
            if abi >> 16 != ABI_MAJOR or abi & 0xFFFF < _ABI_MINOR:
                raise ImportError(f"{path} implements dfuflash ABI {abi >> 16}.{abi & 0xFFFF}, "
                                  f"these bindings need ABI {ABI_MAJOR}.{_ABI_MINOR} or a later minor")
            return lib
        tried.append(str(path))
    raise ImportError("libdfuflash not found; set DFUFLASH_LIBRARY or build it (cargo build --release). Tried: " + ", ".join(tried[:6]))


_lib = _load()


def _sig(name, restype, *argtypes):
    f = getattr(_lib, name)
    f.restype = restype
    f.argtypes = list(argtypes)


_P = c_void_p
_sig("dfuflash_version", c_char_p)
_sig("dfuflash_status_str", c_char_p, c_int32)
_sig("dfuflash_last_error", c_char_p)
_sig("dfuflash_device_list_new", c_int32, c_uint32, POINTER(c_void_p))
_sig("dfuflash_device_list_count", c_size_t, _P)
_sig("dfuflash_device_list_get", c_int32, _P, c_size_t, POINTER(_DeviceDesc))
_sig("dfuflash_device_list_alt", c_int32, _P, c_size_t, c_size_t, POINTER(_AltDesc))
_sig("dfuflash_device_list_free", None, _P)
_sig("dfuflash_open", c_int32, c_uint16, c_uint16, c_char_p, c_char_p, c_int32, c_char_p, c_uint32, POINTER(c_void_p))
_sig("dfuflash_open_simulated", c_int32, c_char_p, c_char_p, c_int32, POINTER(c_void_p))
_sig("dfuflash_device_close", None, _P)
_sig("dfuflash_device_set_sim_faults", c_int32, _P, c_char_p)
_sig("dfuflash_image_load", c_int32, c_char_p, c_uint32, c_bool, c_uint8, POINTER(c_void_p))
_sig("dfuflash_image_from_memory", c_int32, ctypes.c_char_p, c_size_t, c_uint32, c_uint8, POINTER(c_void_p))
_sig("dfuflash_image_target_count", c_size_t, _P)
_sig("dfuflash_image_target", c_int32, _P, c_size_t, POINTER(c_uint8), POINTER(c_size_t))
_sig("dfuflash_image_segment", c_int32, _P, c_size_t, c_size_t, POINTER(c_uint32), POINTER(POINTER(c_uint8)), POINTER(c_size_t))
_sig("dfuflash_image_free", None, _P)
_sig("dfuflash_options_new", c_int32, POINTER(c_void_p))
_sig("dfuflash_options_free", None, _P)
_sig("dfuflash_options_set_flag", c_int32, _P, c_int32, c_bool)
_sig("dfuflash_options_set_leave_address", c_int32, _P, c_uint32)
_sig("dfuflash_options_set_timeout_ms", c_int32, _P, c_int32, c_uint32)
_sig("dfuflash_options_set_progress_callback", c_int32, _P, _PROGRESS_CB)
_sig("dfuflash_options_set_log_callback", c_int32, _P, _LOG_CB)
_sig("dfuflash_options_set_user_data", c_int32, _P, c_void_p)
_sig("dfuflash_erase", c_int32, _P, _P, c_uint32, c_uint32, c_bool)
_sig("dfuflash_download", c_int32, _P, _P, _P)
_sig("dfuflash_upload", c_int32, _P, _P, c_uint32, ctypes.c_void_p, c_size_t)
_sig("dfuflash_leave", c_int32, _P, c_uint32, c_bool)
_sig("dfuflash_cancel", c_int32, _P)
_sig("dfuflash_device_report", c_int32, _P, POINTER(_Report))
_sig("dfuflash_device_info", c_int32, _P, POINTER(_DeviceDesc))
_sig("dfuflash_device_alt", c_int32, _P, c_size_t, POINTER(_AltDesc))
_sig("dfuflash_device_report_target", c_int32, _P, c_size_t, POINTER(_TargetRecord))
_sig("dfuflash_device_report_segment", c_int32, _P, c_size_t, POINTER(_SegmentRecord))
_sig("dfuflash_device_current_alt", c_int32, _P, POINTER(c_uint8))
_sig("dfuflash_device_select_alt", c_int32, _P, c_int32, c_char_p)

__version__ = _lib.dfuflash_version().decode()


def _check(code: int) -> None:
    if code != 0:
        message = (_lib.dfuflash_last_error() or b"").decode(errors="replace") or _lib.dfuflash_status_str(code).decode()
        raise _CODES.get(code, _GROUPS.get(code // 100, DfuflashError))(code, message)


def _s(text: Optional[str]) -> Optional[bytes]:
    return None if text is None else text.encode()


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


@dataclass
class TargetRecord:
    """A downloaded image's target: its alt setting, its bytes, and the SHA-256 (hex) of its
    segments concatenated in address order."""

    alt: int
    bytes: int
    sha256: str


@dataclass
class SegmentRecord:
    """A downloaded image's segment: address, length, CRC-32 (zlib's), and the CRC-32 of the
    bytes read back from the device there (None when it was not read back whole)."""

    alt: int
    address: int
    length: int
    crc32: int
    readback_crc32: Optional[int]


@dataclass
class Report:
    """What an operation did (the C API's dfuflash_report), with a download's record."""

    bytes_written: int = 0
    bytes_verified: int = 0
    requests: int = 0
    sectors_erased: List[int] = field(default_factory=list)
    workaround_sectors: List[int] = field(default_factory=list)
    mass_erased: bool = False
    left: bool = False
    elapsed_seconds: float = 0.0
    wall_seconds: float = 0.0
    device_busy_seconds: float = -1.0
    sectors_skipped: List[int] = field(default_factory=list)
    bytes_checked: int = 0
    sectors_planned: int = 0
    boot_block: Optional[int] = None
    targets: List[TargetRecord] = field(default_factory=list)
    segments: List[SegmentRecord] = field(default_factory=list)
    #: Why the verify asked for did not run (a DFU 1.1 device that cannot upload); None when
    #: it ran or was not asked for.
    unverified: Optional[str] = None


@dataclass
class DeviceInfo:
    """A device found by :func:`list_devices`, or an open one (:attr:`Device.info`)."""

    vendor_id: int
    product_id: int
    bcd_device: int
    dfu_version: int
    transfer_size: int
    attributes: int
    runtime_mode: bool
    manufacturer: Optional[str]
    product: Optional[str]
    serial: Optional[str]
    path: Optional[str]
    simulated: bool
    alt_settings: List[tuple]  # [(alt, name, sector_count or 0), ...]
    # What could not be read of the description; None when complete.
    incomplete: Optional[str] = None
    # The driver the system bound to the device (Windows), and why it cannot be used.
    driver: Optional[str] = None
    driver_problem: Optional[str] = None
    # [(alt, why its layout is unusable), ...] for DfuSe alt settings that cannot be flashed.
    unusable_alts: List[tuple] = field(default_factory=list)
    # The host-side quirks applied (dfu-util's quirk table), each with what it does.
    quirks: List[str] = field(default_factory=list)


def _str(b: Optional[bytes]) -> Optional[str]:
    return None if b is None else b.decode(errors="replace")


def _device_info(d: _DeviceDesc, alts: List[_AltDesc]) -> DeviceInfo:
    return DeviceInfo(d.vendor_id, d.product_id, d.bcd_device, d.dfu_version, d.transfer_size, d.attributes,
                      d.mode == 1, _str(d.manufacturer), _str(d.product), _str(d.serial), _str(d.path),
                      d.simulated, [(a.alt, _str(a.name), a.sector_count) for a in alts],
                      _str(d.incomplete), _str(d.driver), _str(d.driver_problem),
                      [(a.alt, _str(a.layout_error)) for a in alts if a.layout_error is not None],
                      _str(d.quirks).split("\n") if d.quirks else [])


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
        if call.progress is not None:
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


def _filled_text(r, name: str) -> Optional[str]:
    """A string field of a growing struct, when the library filled it (a later minor ABI)."""
    f = getattr(type(r), name)
    value = getattr(r, name) if r.size >= f.offset + f.size else None
    return value.decode("utf-8", "replace") if value else None


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
