"""The C library: its structures, loading (with the ABI check) and every function's signature."""

from __future__ import annotations

import ctypes
import os
import pathlib
import sys
from ctypes import (
    CFUNCTYPE,
    POINTER,
    Structure,
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
from typing import List, Optional

from .errors import _CODES, _GROUPS, DfuflashError

ABI_MAJOR = 3
# The oldest minor these bindings load: what a later minor added (3.1 the report's
# `unverified`, 3.2 dfuflash_flash_layout) is used only when the library has it.
_ABI_MINOR = 0
# The minor that brought dfuflash_flash_layout.
LAYOUT_MINOR = 2


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


class _LayoutReport(Structure):
    _fields_ = [
        ("size", c_uint32),
        ("reenumerations", c_uint32),
        ("partition_count", c_size_t),
        ("phases", POINTER(c_uint8)),
        ("phase_count", c_size_t),
        ("requests", c_uint64),
        ("elapsed_seconds", c_double),
        ("wall_seconds", c_double),
    ]


class _PartitionRecord(Structure):
    _fields_ = [
        ("size", c_uint32),
        ("alt", c_int32),
        ("name", c_char_p),
        ("bytes", c_uint64),
        ("crc32", c_uint32),
        ("readback_crc32", c_uint32),
        ("downloads", c_uint32),
        ("id", c_uint8),
        ("has_crc32", c_bool),
        ("read_back", c_bool),
        ("reserved", c_uint8),
    ]


def _sized(cls):
    """A struct the library fills, its size set as ABI 3 asks."""
    s = cls()
    s.size = sizeof(cls)
    return s


_PROGRESS_CB = CFUNCTYPE(c_int32, c_void_p, POINTER(_Progress))
_LOG_CB = CFUNCTYPE(None, c_void_p, c_int32, c_char_p)


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
    tried, refused = [], []
    for path in _candidates():
        if path.exists():
            lib = ctypes.CDLL(str(path))
            lib.dfuflash_abi_version.restype = c_uint32
            lib.dfuflash_abi_version.argtypes = []
            abi = lib.dfuflash_abi_version()
            if abi >> 16 == ABI_MAJOR and abi & 0xFFFF >= _ABI_MINOR:
                return lib
            # Another candidate may be a library these bindings can use.
            refused.append(f"{path} implements dfuflash ABI {abi >> 16}.{abi & 0xFFFF}")
            continue
        tried.append(str(path))
    if refused:
        raise ImportError("; ".join(refused) + f"; these bindings need ABI {ABI_MAJOR}.{_ABI_MINOR} or a later minor")
    raise ImportError("libdfuflash not found; set DFUFLASH_LIBRARY or build it (cargo build --release). Tried: " + ", ".join(tried[:6]))


_lib = _load()
# The library's own minor: what it has beyond the oldest minor loaded.
LIB_ABI_MINOR = _lib.dfuflash_abi_version() & 0xFFFF


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
if LIB_ABI_MINOR >= LAYOUT_MINOR:
    _sig("dfuflash_flash_layout", c_int32, _P, c_char_p, _P, POINTER(_LayoutReport))
    _sig("dfuflash_device_layout_report", c_int32, _P, POINTER(_LayoutReport))
    _sig("dfuflash_device_layout_partition", c_int32, _P, c_size_t, POINTER(_PartitionRecord))
_sig("dfuflash_device_current_alt", c_int32, _P, POINTER(c_uint8))
_sig("dfuflash_device_select_alt", c_int32, _P, c_int32, c_char_p)

__version__ = _lib.dfuflash_version().decode()


def _check(code: int) -> None:
    if code != 0:
        message = (_lib.dfuflash_last_error() or b"").decode(errors="replace") or _lib.dfuflash_status_str(code).decode()
        raise _CODES.get(code, _GROUPS.get(code // 100, DfuflashError))(code, message)


def _s(text: Optional[str]) -> Optional[bytes]:
    return None if text is None else text.encode()
