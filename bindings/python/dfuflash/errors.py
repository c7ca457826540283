"""The exceptions: one class per group of the C API's status codes, each carrying the code
and the library's message."""

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


class LayoutError(DfuflashError):
    """A FlashLayout.tsv (800-899): the TSV is invalid (TsvError), the device reported phase
    0xFF with its text, asked for a partition the layout lacks or kept asking for one, no alt
    setting serves its phase, or it ended before asking for every row to program (805). A
    binary the TSV names that cannot be read is a FileError."""


class TsvError(LayoutError):
    """The FlashLayout.tsv is invalid (800); the message names its file, line and column."""


_GROUPS = {1: ArgumentError, 2: UsbError, 3: DeviceError, 4: FileError, 5: RefusedError, 6: CancelledError,
           7: VerifyError, 8: LayoutError}
_CODES = {102: PanicError, 103: BusyError, 104: ClosedError, 800: TsvError}
