"""What the library reports, as Python values: a download's record, the report of an
operation, and a device's description."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Optional

from ._native import _AltDesc, _DeviceDesc


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
class PartitionRecord:
    """A row of a flashed FlashLayout.tsv: its Name and Id, its binary's bytes and CRC-32 (None
    for an E row), the CRC-32 of what the device read back (None where it cannot: every
    STM32N6 partition), times downloaded, and the alt setting it went to (None if never)."""

    name: str
    id: int
    bytes: int
    crc32: Optional[int]
    readback_crc32: Optional[int]
    downloads: int
    alt: Optional[int]


@dataclass
class LayoutReport:
    """What :meth:`Device.flash_layout` did: every row of the TSV in file order, every phase
    the device reported (0xFE last), and the re-enumerations it was followed across."""

    partitions: List[PartitionRecord]
    phases: List[int]
    reenumerations: int
    requests: int
    elapsed_seconds: float
    wall_seconds: float


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


def _filled_text(r, name: str) -> Optional[str]:
    """A string field of a growing struct, when the library filled it (a later minor ABI)."""
    f = getattr(type(r), name)
    value = getattr(r, name) if r.size >= f.offset + f.size else None
    return value.decode("utf-8", "replace") if value else None
