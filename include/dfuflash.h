/*
 * dfuflash: a USB DFU 1.1 / ST DfuSe flasher, C API.
 *
 * Conventions
 * - Every function returns a status code (DFUFLASH_OK = 0) unless it returns a value;
 *   dfuflash_status_str(code) describes a code, dfuflash_last_error() gives the detailed
 *   message of the last failure on the calling thread (dfuflash_last_error_copy copies it).
 * - Outputs are written only on success. Every pointer argument is checked: NULL where a
 *   pointer is required returns DFUFLASH_ERR_NULL_ARGUMENT. _free/_close(NULL) is a no-op.
 * - After DFUFLASH_ERR_USB_DISCONNECTED the handle cannot reach the board again: close it and
 *   open the board anew (it may come back at another address, or in another mode).
 * - No Rust panic crosses this API: an internal error returns DFUFLASH_ERR_PANIC and the
 *   library stays usable, the device handle included: its next operation first returns the
 *   device to dfuIDLE.
 *
 * Ownership
 * - Each _new/_load/_open hands out an object the caller owns and frees exactly once with the
 *   matching _free/_close. Strings and arrays the library returns (descriptions, report
 *   arrays, image segments) are owned by the object they came from and valid until it is
 *   freed; a device report's arrays until the device's next operation. Callers keep ownership
 *   of what they pass in; images copy the bytes they are given.
 *
 * Device lifecycle and threads
 * - A device handle names an open device; it is not a pointer to its memory. Any call with a
 *   closed handle fails with DFUFLASH_ERR_INVALID_HANDLE (close itself is then a no-op), so
 *   a late cancel or a double close never touches freed memory.
 * - One operation at a time per device: a call on a device that another call is using
 *   returns DFUFLASH_ERR_BUSY. Different devices may be used from different threads at once.
 * - dfuflash_cancel(dev) may be called from any thread, at any time. The operation running on
 *   dev stops at its next point between transfers, or within 50 ms when it is waiting for the
 *   device (however long the device asked it to wait), and returns DFUFLASH_ERR_CANCELLED. A
 *   transfer the device holds (an ST ROM erases inside a GETSTATUS, about 1 s for a 128 KB
 *   STM32H7 sector) is cut short within a few ms too: libusb cancels it, and the device works
 *   on. The device is left in dfuIDLE, unless the cancel ended a wait for a busy device (the
 *   message says so): the next operation first waits for it. A cancel while no operation runs
 *   does nothing.
 * - Every operation has a deadline as a whole (DFUFLASH_TIMEOUT_JOB; by default an allowance
 *   for the work it plans at the slowest documented device timings), past which it fails with
 *   DFUFLASH_ERR_JOB_TIMEOUT, so a device that keeps asking the host to wait cannot hold it.
 * - dfuflash_device_close(dev) may be called from any thread. While an operation runs on
 *   another thread, close cancels it and waits for it to return, then frees the device; a
 *   call that had not yet begun returns DFUFLASH_ERR_INVALID_HANDLE. Called from inside a
 *   progress or log callback (of this device or another), close never waits: it cancels, and
 *   the running operation frees the device when it returns (with DFUFLASH_ERR_CANCELLED, or its
 *   own result if its work was done). Until the operation call returns, its callbacks may
 *   still run: its options, user data and image must outlive the call, not the close.
 * - dfuflash_device_info, _alt, _sector and _current_alt may be called while an operation
 *   runs; other calls on the same device get DFUFLASH_ERR_BUSY. The strings they return stay
 *   valid until close of the device begins.
 * - Progress and log callbacks run synchronously on the thread that made the call; from a
 *   callback, calls on other devices and dfuflash_cancel/_close of any device are allowed.
 * - An image or options object may be read by several calls at once (a download only reads
 *   them) but must not be changed or freed while a call that uses it runs: join the worker
 *   thread before freeing them.
 * - An operation switches alt settings as its image needs and switches back before it
 *   returns: later calls act on the alt setting the device had.
 *
 * Loading at run time: dfuflash_get_api(DFUFLASH_ABI_MAJOR) returns a table of every function
 * (its size first; new entries are only ever appended), or NULL when the library does not
 * implement that ABI major. Linking the symbols directly works too.
 * - ABI 2.0 (library 0.2): dfuflash_report gained sectors_skipped and sectors_skipped_count at
 *   its end, so a program built for ABI 1 must be rebuilt; the library refuses major 1.
 * - ABI 3.0 (library 0.3): every struct the library writes starts with its size (below), so
 *   that fields can be added without another break; a program built for ABI 2 must be rebuilt
 *   once; the library refuses major 2.
 * - ABI 3.1: dfuflash_report.unverified. ABI 3.2: dfuflash_flash_layout (a FlashLayout.tsv
 *   through ST's serial-boot phase protocol) and its report, DFUFLASH_TIMEOUT_REENUMERATE and
 *   the DFUFLASH_ERR_TSV and _PHASE_ codes (800s); three entries appended to dfuflash_api.
 *
 * Structs that grow (ABI 3)
 * - dfuflash_report, dfuflash_device_desc, dfuflash_alt_desc, dfuflash_target_record,
 *   dfuflash_segment_record, dfuflash_layout_report and dfuflash_partition_record start with
 *   `uint32_t size`. Before the call, set it to the sizeof the program was compiled with
 *   (`dfuflash_report r = { .size = sizeof r };`). The library writes at most that many bytes,
 *   fills every field it has that fits, and sets `size` to the bytes it filled. The fields
 *   marked with an ABI version were added then; a size that ends before the unmarked (base)
 *   fields fails with DFUFLASH_ERR_INVALID_ARGUMENT and writes nothing.
 * - New fields are only ever appended, each after the end of the struct as it was (its
 *   previous sizeof). So a program built against an older header keeps working with a newer
 *   library (it gets the fields it knows), and a program built against a newer header that
 *   runs on an older library finds a field valid exactly when
 *   offsetof(field) + sizeof(field) <= size after the call.
 * - dfuflash_progress, which the library hands to callbacks, starts with the library's
 *   sizeof: read a field only when `size` reaches past it.
 * - dfuflash_api is read the same way: its `size` is the library's sizeof.
 */

#ifndef DFUFLASH_H
#define DFUFLASH_H

/* Generated by cbindgen from src/ffi/ - do not edit. Regenerate with: DFUFLASH_UPDATE_HEADER=1 cargo test --test header */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

// ABI major version: bumped only when an existing function or struct changes.
#define DFUFLASH_ABI_MAJOR 3

// ABI minor version: bumped when functions or fields of the growing structs are appended.
#define DFUFLASH_ABI_MINOR 2

// Library version, major part.
#define DFUFLASH_VERSION_MAJOR 0

// Library version, minor part.
#define DFUFLASH_VERSION_MINOR 3

// Library version, patch part.
#define DFUFLASH_VERSION_PATCH 0

// A progress callback returns this to go on.
#define DFUFLASH_CONTINUE 0

// A progress callback returns this to cancel; the call then fails with DFUFLASH_ERR_CANCELLED.
#define DFUFLASH_CANCEL 1

// Phase: erasing (done/total count sectors; a mass erase counts 1).
#define DFUFLASH_PHASE_ERASE 1

// Phase: writing (bytes).
#define DFUFLASH_PHASE_WRITE 2

// Phase: reading back and comparing (bytes).
#define DFUFLASH_PHASE_VERIFY 3

// Phase: reading into the caller's buffer (bytes).
#define DFUFLASH_PHASE_READ 4

// Phase: leaving DFU mode.
#define DFUFLASH_PHASE_LEAVE 5

// Phase: reading the planned sectors before erasing, to skip those that already hold what
// the download would leave (bytes).
#define DFUFLASH_PHASE_COMPARE 6

// Phase: writing the boot block last, after the rest was written and verified, then reading it
// back (bytes: its length twice). See DFUFLASH_OPT_BOOT_LAST.
#define DFUFLASH_PHASE_BOOT 7

// Log level: request-level detail.
#define DFUFLASH_LOG_DEBUG 0

// Log level: what happened.
#define DFUFLASH_LOG_INFO 1

// Log level: something the user should know (a device workaround fired).
#define DFUFLASH_LOG_WARN 2

// Log level: a failure.
#define DFUFLASH_LOG_ERROR 3

// Device mode: the application runs (runtime DFU interface).
#define DFUFLASH_MODE_RUNTIME 1

// Device mode: the bootloader runs (DFU mode).
#define DFUFLASH_MODE_DFU 2

// `dfuflash_device_list_new` and `dfuflash_open` flag: include the simulated models.
#define DFUFLASH_LIST_SIMULATED 1

// `dfuflash_options_set_timeout_ms`: USB timeout of every control transfer but GETSTATUS.
#define DFUFLASH_TIMEOUT_CONTROL 1

// USB timeout of GETSTATUS (longer than one sector erase).
#define DFUFLASH_TIMEOUT_STATUS 2

// Deadline of a page erase.
#define DFUFLASH_TIMEOUT_ERASE 3

// Deadline of a mass erase, and of the first block of a DFU 1.1 download (a device may erase
// its whole firmware area then, as Zephyr's DFU class does).
#define DFUFLASH_TIMEOUT_MASS_ERASE 4

// Deadline of a Set Address or a data block (but the first of a DFU 1.1 download).
#define DFUFLASH_TIMEOUT_COMMAND 5

// Deadline of DFU 1.1 manifestation.
#define DFUFLASH_TIMEOUT_MANIFEST 6

// Deadline of the whole operation (default: an allowance from the work it plans, priced at
// the slowest documented device timings; about 224 s for a 1.75 MB STM32H7 image). Past it
// the operation fails with DFUFLASH_ERR_JOB_TIMEOUT.
#define DFUFLASH_TIMEOUT_JOB 7

// dfuflash_flash_layout: how long the board may take to come back after each DETACH, as its
// next boot stage (default 10 s) (ABI 3.2).
#define DFUFLASH_TIMEOUT_REENUMERATE 8

// `dfuflash_options_set_flag`: read back and compare after writing.
#define DFUFLASH_OPT_VERIFY 1

// Leave DFU mode after a fully successful download; a device that answers it is still in DFU
// mode fails the download with DFUFLASH_ERR_UNEXPECTED_STATE.
#define DFUFLASH_OPT_LEAVE 2

// One mass erase (of alt setting 0, the internal flash) instead of its sector erases; a target on
// another alt setting is still erased sector by sector.
#define DFUFLASH_OPT_MASS_ERASE 3

// Device workarounds (the STM32H7 Rev V erase recovery).
#define DFUFLASH_OPT_WORKAROUNDS 4

// Allow writing option bytes.
#define DFUFLASH_OPT_ALLOW_OPTION_BYTES 5

// Allow writing OTP memory.
#define DFUFLASH_OPT_ALLOW_OTP 6

// Refuse an image whose DFU suffix names another device.
#define DFUFLASH_OPT_CHECK_SUFFIX 7

// Erase and write every planned sector (off: sectors that already hold what the download
// would leave are read, found equal and skipped).
#define DFUFLASH_OPT_FULL 8

// Write the boot block (the first block of the image's lowest flash segment: a vector table)
// last, after the rest is written and verified, and each segment's first block after its
// other blocks, so a power cut never leaves a bootable half image (on by default; off for
// images whose first block is not a vector table).
#define DFUFLASH_OPT_BOOT_LAST 9

// Success.
#define DFUFLASH_OK 0

// Caller misuse: a required pointer argument is NULL.
#define DFUFLASH_ERR_NULL_ARGUMENT 100

// Caller misuse: an argument is out of range or malformed.
#define DFUFLASH_ERR_INVALID_ARGUMENT 101

// An internal error (a Rust panic) was contained; the library stays usable.
#define DFUFLASH_ERR_PANIC 102

// The device handle is in use by another call (a handle serves one thread at a time).
#define DFUFLASH_ERR_BUSY 103

// Caller misuse: the device handle is not open (closed already, or never opened).
#define DFUFLASH_ERR_INVALID_HANDLE 104

// The caller's buffer is too small; the needed size was written.
#define DFUFLASH_ERR_BUFFER_TOO_SMALL 105

// USB: the device disconnected.
#define DFUFLASH_ERR_USB_DISCONNECTED 200

// USB: the device stalled a request.
#define DFUFLASH_ERR_USB_STALL 201

// USB: a transfer timed out.
#define DFUFLASH_ERR_USB_TIMEOUT 202

// USB: the device sent more data than asked for.
#define DFUFLASH_ERR_USB_OVERFLOW 203

// USB: any other USB failure.
#define DFUFLASH_ERR_USB 204

// No device matches the selection.
#define DFUFLASH_ERR_DEVICE_NOT_FOUND 205

// Several devices match the selection (the message lists them).
#define DFUFLASH_ERR_AMBIGUOUS_DEVICE 206

// USB: permission denied (the message says how to add a udev rule on Linux).
#define DFUFLASH_ERR_USB_ACCESS 207

// USB: another driver or program holds the interface.
#define DFUFLASH_ERR_USB_BUSY 208

// USB (Windows): the device is bound to a driver libusb cannot open it through, such as
// STTub30, ST's DfuSe driver. The message names the driver and how to install WinUSB with
// Zadig; an IDE may show its own driver dialog for this code.
#define DFUFLASH_ERR_USB_DRIVER 209

// Device: it reported an error status (errTARGET, errVENDOR, ...).
#define DFUFLASH_ERR_DEVICE_STATUS 300

// Device: it is in a state the operation does not allow (or, after a leave, still in DFU
// mode).
#define DFUFLASH_ERR_UNEXPECTED_STATE 301

// Device: it stayed busy past the deadline.
#define DFUFLASH_ERR_STUCK_BUSY 302

// Device: it stalled GETSTATUS past the retry budget.
#define DFUFLASH_ERR_STATUS_STALLED 303

// Device: the STM32H7 Rev V recovery did not apply.
#define DFUFLASH_ERR_RECOVERY_FAILED 304

// Device: a malformed reply.
#define DFUFLASH_ERR_MALFORMED_REPLY 305

// Device: an upload returned fewer bytes than asked for.
#define DFUFLASH_ERR_SHORT_READ 306

// Device: it does not support the operation.
#define DFUFLASH_ERR_UNSUPPORTED 307

// Device: no such alt setting.
#define DFUFLASH_ERR_NO_SUCH_ALT 308

// Device: the operation ran past its deadline as a whole (DFUFLASH_TIMEOUT_JOB); the device
// kept the host waiting.
#define DFUFLASH_ERR_JOB_TIMEOUT 309

// File: the firmware file is malformed (the message names the offset or line).
#define DFUFLASH_ERR_FILE_FORMAT 400

// File: it cannot be read.
#define DFUFLASH_ERR_FILE_IO 401

// File: a raw binary needs an address.
#define DFUFLASH_ERR_RAW_NEEDS_ADDRESS 402

// File: its DFU suffix names another device.
#define DFUFLASH_ERR_SUFFIX_MISMATCH 403

// File: the image is invalid (overlapping or empty segments).
#define DFUFLASH_ERR_IMAGE 404

// Device: its memory layout string is malformed.
#define DFUFLASH_ERR_LAYOUT 405

// Simulator: unknown model or unreadable state file.
#define DFUFLASH_ERR_SIMULATOR 406

// Refused before any request: the image touches memory the device does not have.
#define DFUFLASH_ERR_OUTSIDE_LAYOUT 500

// Refused: the memory is not writable.
#define DFUFLASH_ERR_NOT_WRITABLE 501

// Refused: the memory is not erasable, or, written without an erase, already holds bytes the
// image cannot be written over (found by reading first, before anything is written).
#define DFUFLASH_ERR_NOT_ERASABLE 502

// Refused: the memory is not readable, so it cannot be verified.
#define DFUFLASH_ERR_NOT_READABLE 503

// Refused: option bytes, OTP or the device feature area without explicit permission.
#define DFUFLASH_ERR_PROTECTED 504

// Refused: the alt setting has no DfuSe memory layout.
#define DFUFLASH_ERR_NO_LAYOUT 505

// Refused: the image is for another alt setting than the one selected (the message says both).
#define DFUFLASH_ERR_ALT_MISMATCH 506

// The caller cancelled; the device was left in dfuIDLE.
#define DFUFLASH_ERR_CANCELLED 600

// Verify: read-back differs from what was written.
#define DFUFLASH_ERR_VERIFY 700

// Verify: a sector erased through the Rev V recovery did not read back erased.
#define DFUFLASH_ERR_WORKAROUND_CHECK 701

// FlashLayout: the TSV is invalid; the message names its file, line and column (ABI 3.2). A
// binary it names that cannot be read is DFUFLASH_ERR_FILE_IO, named the same way.
#define DFUFLASH_ERR_TSV 800

// FlashLayout: the device reported phase 0xFF; the message carries its text (ABI 3.2).
#define DFUFLASH_ERR_PHASE_DEVICE_ERROR 801

// FlashLayout: the device asked for a phase the TSV has no row for, or for a row marked E
// (not to be downloaded): the layout is not for this board (ABI 3.2).
#define DFUFLASH_ERR_PHASE_UNKNOWN 802

// FlashLayout: the device kept asking for the partition it was just sent (ABI 3.2).
#define DFUFLASH_ERR_PHASE_LOOP 803

// FlashLayout: no alt setting serves the phase the device asked for, even after following
// the board to its next boot stage (ABI 3.2).
#define DFUFLASH_ERR_PHASE_NO_ALT 804

// FlashLayout: the device reported the end before it asked for every row to program; the
// message names the rows never written (ABI 3.2).
#define DFUFLASH_ERR_PHASE_ENDED_EARLY 805

// An open device (an opaque handle: see the lifecycle rules in the header).
typedef struct dfuflash_device dfuflash_device;

// A list of devices.
typedef struct dfuflash_device_list dfuflash_device_list;

// A firmware image.
typedef struct dfuflash_image dfuflash_image;

// Options for an operation; defaults: verify on, leave off, workarounds on, option bytes and
// OTP refused, suffix ids checked, unchanged sectors skipped (full off), boot block last, no callbacks.
typedef struct dfuflash_options dfuflash_options;

// One device of a list, or an open device (strings owned by the list or the device; NULL
// when absent). Size-prefixed: set `size` first (see "Structs that grow").
typedef struct {
  // In: sizeof(dfuflash_device_desc) of the caller. Out: the bytes the library filled.
  uint32_t size;
  // idVendor.
  uint16_t vendor_id;
  // idProduct.
  uint16_t product_id;
  // bcdDevice.
  uint16_t bcd_device;
  // bcdDFUVersion (0x0110 DFU 1.1, 0x011A DfuSe).
  uint16_t dfu_version;
  // wTransferSize.
  uint16_t transfer_size;
  // bmAttributes of the functional descriptor.
  uint8_t attributes;
  // DFUFLASH_MODE_RUNTIME or DFUFLASH_MODE_DFU.
  int32_t mode;
  // Manufacturer string.
  const char *manufacturer;
  // Product string.
  const char *product;
  // Serial number string.
  const char *serial;
  // USB port path (`1-4.2`), or `sim:MODEL` for a simulated device.
  const char *path;
  // Alt settings (see dfuflash_device_list_alt and dfuflash_device_alt).
  size_t alt_count;
  // A simulated device.
  bool simulated;
  // What could not be read of the device's description (strings that did not come within
  // the time allowed), or NULL when it is complete (ABI 3.0).
  const char *incomplete;
  // The driver the system bound to the device, when known (Windows: its service name, such
  // as WinUSB or STTub30); NULL when unknown (ABI 3.0).
  const char *driver;
  // Why that driver keeps the device from being opened, and what to do; NULL when it is
  // usable or unknown (ABI 3.0).
  const char *driver_problem;
  // The host-side quirks applied to the device (dfu-util's quirk table: a fixed layout, a
  // forced DFU version...), one per line with what it does; NULL when none (ABI 3.0).
  const char *quirks;
} dfuflash_device_desc;

// One alt setting of a listed or open device. Size-prefixed: set `size` first (see "Structs
// that grow").
typedef struct {
  // In: sizeof(dfuflash_alt_desc) of the caller. Out: the bytes the library filled.
  uint32_t size;
  // bAlternateSetting.
  uint8_t alt;
  // Its name (on DfuSe devices, the memory layout string).
  const char *name;
  // The name parsed as a DfuSe memory layout.
  bool has_layout;
  // Sectors in the layout (see dfuflash_device_list_sector); 0 without a layout.
  size_t sector_count;
  // On a DfuSe device, why the name is not a usable memory layout (nothing can be flashed
  // there); NULL when it is, and on DFU 1.1 devices (ABI 3.0).
  const char *layout_error;
} dfuflash_alt_desc;

// What a progress callback is told. Fields are only appended: read one only when `size`
// reaches past it (see "Structs that grow").
typedef struct {
  // sizeof(dfuflash_progress) of the library.
  uint32_t size;
  // One of the DFUFLASH_PHASE_ constants.
  int32_t phase;
  // Units done in the phase (0 when the phase starts).
  uint64_t done;
  // Units in the phase.
  uint64_t total;
  // Address of the sector or block just finished.
  uint32_t address;
  // Erase: index of the sector in the device's layout; -1 otherwise.
  int32_t sector_index;
  // Erase: this is sector k of n, counting from 1; 0 otherwise.
  int32_t sector_k;
  // Erase: sectors the job erases; 0 otherwise.
  int32_t sector_n;
} dfuflash_progress;

// Progress callback: return DFUFLASH_CONTINUE or DFUFLASH_CANCEL.
typedef int32_t (*dfuflash_progress_cb)(void *user_data, const dfuflash_progress *progress);

// Log callback: a DFUFLASH_LOG_ level and a NUL-terminated message valid during the call.
typedef void (*dfuflash_log_cb)(void *user_data, int32_t level, const char *message);

// What the last erase, download, upload or leave on a device did. Pointers stay valid until
// the next operation on the device or its close. Size-prefixed: set `size` first (see
// "Structs that grow").
typedef struct {
  // In: sizeof(dfuflash_report) of the caller. Out: the bytes the library filled.
  uint32_t size;
  // Bytes sent to the device (padding included).
  uint64_t bytes_written;
  // Bytes of the image read back and found equal: by the verify after writing, or by the
  // comparison of a sector that already held them (left alone, in `sectors_skipped`; they
  // count with verify off too, since they were read). Bytes read back besides the image's
  // own count in `bytes_checked`.
  uint64_t bytes_verified;
  // Control requests sent.
  uint64_t requests;
  // Addresses of the sectors erased.
  const uint32_t *sectors_erased;
  // Entries in `sectors_erased`.
  size_t sectors_erased_count;
  // Sectors whose erase needed the STM32H7 Rev V recovery (each was checked by read-back).
  const uint32_t *workaround_sectors;
  // Entries in `workaround_sectors`.
  size_t workaround_sectors_count;
  // A mass erase was done.
  bool mass_erased;
  // The device left DFU mode.
  bool left;
  // Seconds on the device's clock (simulated time on a simulated device).
  double elapsed_seconds;
  // Wall-clock seconds.
  double wall_seconds;
  // Seconds the simulated device itself was busy since it was opened; -1 for real devices.
  double device_busy_seconds;
  // Planned sectors left alone (neither erased nor written) because they already held what
  // the download would leave there.
  const uint32_t *sectors_skipped;
  // Entries in `sectors_skipped`.
  size_t sectors_skipped_count;
  // Bytes read back and found as expected besides the image's own: the rest of sectors the
  // Rev V recovery erased, and unchanged sectors an erase could have reached (ABI 3.0).
  uint64_t bytes_checked;
  // Sectors the download planned (erased, or skipped as unchanged): a re-run after an
  // interrupted download resumed when `sectors_skipped_count` of them already held the
  // image (ABI 3.0).
  size_t sectors_planned;
  // The boot block was written last (DFUFLASH_OPT_BOOT_LAST), at `boot_block` (ABI 3.0).
  bool has_boot_block;
  // Its address; 0 when `has_boot_block` is false (ABI 3.0).
  uint32_t boot_block;
  // Targets of the downloaded image in the record (see dfuflash_device_report_target);
  // 0 after other operations (ABI 3.0).
  size_t target_count;
  // Segments of the downloaded image in the record (see dfuflash_device_report_segment);
  // 0 after other operations (ABI 3.0).
  size_t segment_count;
  // Why the verify asked for did not run (a plain DFU 1.1 device that cannot upload after
  // manifestation): a NUL-terminated UTF-8 string owned by `dev`, valid until the next
  // operation on `dev` or its close. NULL when the verify ran or was not asked for
  // (ABI 3.1).
  const char *unverified;
} dfuflash_report;

// One target of the last download's record. Size-prefixed: set `size` first.
typedef struct {
  // In: sizeof(dfuflash_target_record) of the caller. Out: the bytes the library filled.
  uint32_t size;
  // The alt setting it went to.
  uint8_t alt;
  // Bytes of the image for it (no padding, no gaps).
  uint64_t bytes;
  // SHA-256 of its segments' bytes concatenated in address order (for a raw binary, what
  // sha256sum prints for the file).
  uint8_t sha256[32];
} dfuflash_target_record;

// One segment of the last download's record. Size-prefixed: set `size` first.
typedef struct {
  // In: sizeof(dfuflash_segment_record) of the caller. Out: the bytes the library filled.
  uint32_t size;
  // The alt setting of its target.
  uint8_t alt;
  // First address.
  uint32_t address;
  // Length in bytes.
  uint64_t length;
  // CRC-32 (zlib's) of the image's bytes.
  uint32_t crc32;
  // Every byte of the segment was read back from the device (by the verify, or by the
  // comparison of unchanged sectors): `readback_crc32` holds their CRC-32.
  bool read_back;
  // CRC-32 of the bytes the device returned at the segment's addresses; 0 when `read_back`
  // is false.
  uint32_t readback_crc32;
  // Zero. Takes the place of the struct's tail padding, so that a field added later starts
  // at its sizeof.
  uint32_t reserved;
} dfuflash_segment_record;

// What the last dfuflash_flash_layout on a device did (ABI 3.2). Size-prefixed: set `size`
// first (see "Structs that grow"). `phases` is owned by the device and valid until its next
// operation or its close; when the device was closed during the call (from a callback or
// another thread), `phases` is NULL and `phase_count` 0, as the device is gone when it returns.
typedef struct {
  // In: sizeof(dfuflash_layout_report) of the caller. Out: the bytes the library filled.
  uint32_t size;
  // Times the board was followed across a re-enumeration (to its next boot stage).
  uint32_t reenumerations;
  // Rows of the TSV, in file order: read each with dfuflash_device_layout_partition.
  size_t partition_count;
  // Every phase the device reported, in order (the protocol's transcript; 0xFE last).
  const uint8_t *phases;
  // Entries in `phases`.
  size_t phase_count;
  // Control requests sent.
  uint64_t requests;
  // Seconds on the device's clock (simulated time on a simulated device).
  double elapsed_seconds;
  // Wall-clock seconds.
  double wall_seconds;
} dfuflash_layout_report;

// One row of the last layout's TSV and what was done with it (ABI 3.2). Size-prefixed: set
// `size` first. `name` is owned by the device, valid until its next operation or its close.
typedef struct {
  // In: sizeof(dfuflash_partition_record) of the caller. Out: the bytes the library filled.
  uint32_t size;
  // The alt setting it went to last; -1 when the device never asked for it.
  int32_t alt;
  // Its Name column, NUL-terminated UTF-8.
  const char *name;
  // Bytes of its binary (0 for an `E` row, whose binary is never read).
  uint64_t bytes;
  // CRC-32 (zlib's) of its binary; 0 when `has_crc32` is false.
  uint32_t crc32;
  // CRC-32 of what the device returned when the partition was read back; 0 when
  // `read_back` is false. No STM32N6 partition can be read back: its ROM and ST's
  // OpenBootloader upload only the phase and OTP.
  uint32_t readback_crc32;
  // Times it was downloaded (0: the device never asked for it).
  uint32_t downloads;
  // Its Id column.
  uint8_t id;
  // `crc32` holds a CRC: false for an `E` row.
  bool has_crc32;
  // The partition was read back: `readback_crc32` holds a CRC.
  bool read_back;
  // Zero. Takes the place of the struct's tail padding, so that a field added later starts
  // at its sizeof.
  uint8_t reserved;
} dfuflash_partition_record;

// The function table of `dfuflash_get_api`. Entries are only ever appended; `size` tells a
// host built against an older header how much of the table it may read.
typedef struct {
  // sizeof(dfuflash_api) of the library.
  uint32_t size;
  // dfuflash_abi_version() of the library.
  uint32_t abi_version;
  // See dfuflash_version.
  const char *(*version)(void);
  // See dfuflash_abi_version.
  uint32_t (*abi_version_fn)(void);
  // See dfuflash_status_str.
  const char *(*status_str)(int32_t);
  // See dfuflash_last_error.
  const char *(*last_error)(void);
  // See dfuflash_device_list_new.
  int32_t (*device_list_new)(uint32_t, dfuflash_device_list**);
  // See dfuflash_device_list_count.
  size_t (*device_list_count)(const dfuflash_device_list*);
  // See dfuflash_device_list_get.
  int32_t (*device_list_get)(const dfuflash_device_list*, size_t, dfuflash_device_desc*);
  // See dfuflash_device_list_alt.
  int32_t (*device_list_alt)(const dfuflash_device_list*, size_t, size_t, dfuflash_alt_desc*);
  // See dfuflash_device_list_sector.
  int32_t (*device_list_sector)(const dfuflash_device_list*,
                                size_t,
                                size_t,
                                size_t,
                                uint32_t*,
                                uint32_t*,
                                uint8_t*);
  // See dfuflash_device_list_free.
  void (*device_list_free)(dfuflash_device_list*);
  // See dfuflash_open.
  int32_t (*open)(uint16_t,
                  uint16_t,
                  const char*,
                  const char*,
                  int32_t,
                  const char*,
                  uint32_t,
                  dfuflash_device**);
  // See dfuflash_open_simulated.
  int32_t (*open_simulated)(const char*, const char*, int32_t, dfuflash_device**);
  // See dfuflash_device_close.
  void (*device_close)(dfuflash_device*);
  // See dfuflash_device_set_sim_faults.
  int32_t (*device_set_sim_faults)(dfuflash_device*, const char*);
  // See dfuflash_image_load.
  int32_t (*image_load)(const char*, uint32_t, bool, uint8_t, dfuflash_image**);
  // See dfuflash_image_from_memory.
  int32_t (*image_from_memory)(const uint8_t*, size_t, uint32_t, uint8_t, dfuflash_image**);
  // See dfuflash_image_target_count.
  size_t (*image_target_count)(const dfuflash_image*);
  // See dfuflash_image_target.
  int32_t (*image_target)(const dfuflash_image*, size_t, uint8_t*, size_t*);
  // See dfuflash_image_segment.
  int32_t (*image_segment)(const dfuflash_image*,
                           size_t,
                           size_t,
                           uint32_t*,
                           const uint8_t**,
                           size_t*);
  // See dfuflash_image_free.
  void (*image_free)(dfuflash_image*);
  // See dfuflash_options_new.
  int32_t (*options_new)(dfuflash_options**);
  // See dfuflash_options_free.
  void (*options_free)(dfuflash_options*);
  // See dfuflash_options_set_flag.
  int32_t (*options_set_flag)(dfuflash_options*, int32_t, bool);
  // See dfuflash_options_set_leave_address.
  int32_t (*options_set_leave_address)(dfuflash_options*, uint32_t);
  // See dfuflash_options_set_timeout_ms.
  int32_t (*options_set_timeout_ms)(dfuflash_options*, int32_t, uint32_t);
  // See dfuflash_options_set_progress_callback.
  int32_t (*options_set_progress_callback)(dfuflash_options*, dfuflash_progress_cb);
  // See dfuflash_options_set_log_callback.
  int32_t (*options_set_log_callback)(dfuflash_options*, dfuflash_log_cb);
  // See dfuflash_options_set_user_data.
  int32_t (*options_set_user_data)(dfuflash_options*, void*);
  // See dfuflash_erase.
  int32_t (*erase)(dfuflash_device*, const dfuflash_options*, uint32_t, uint32_t, bool);
  // See dfuflash_download.
  int32_t (*download)(dfuflash_device*, const dfuflash_image*, const dfuflash_options*);
  // See dfuflash_upload.
  int32_t (*upload)(dfuflash_device*, const dfuflash_options*, uint32_t, uint8_t*, size_t);
  // See dfuflash_leave.
  int32_t (*leave)(dfuflash_device*, uint32_t, bool);
  // See dfuflash_cancel.
  int32_t (*cancel)(const dfuflash_device*);
  // See dfuflash_device_report.
  int32_t (*device_report)(const dfuflash_device*, dfuflash_report*);
  // See dfuflash_device_info.
  int32_t (*device_info)(const dfuflash_device*, dfuflash_device_desc*);
  // See dfuflash_device_alt.
  int32_t (*device_alt)(const dfuflash_device*, size_t, dfuflash_alt_desc*);
  // See dfuflash_device_sector.
  int32_t (*device_sector)(const dfuflash_device*, size_t, size_t, uint32_t*, uint32_t*, uint8_t*);
  // See dfuflash_device_current_alt.
  int32_t (*device_current_alt)(const dfuflash_device*, uint8_t*);
  // See dfuflash_device_select_alt.
  int32_t (*device_select_alt)(dfuflash_device*, int32_t, const char*);
  // See dfuflash_last_error_copy.
  int32_t (*last_error_copy)(char*, size_t, size_t*);
  // See dfuflash_device_report_target (ABI 3.0).
  int32_t (*device_report_target)(const dfuflash_device*, size_t, dfuflash_target_record*);
  // See dfuflash_device_report_segment (ABI 3.0).
  int32_t (*device_report_segment)(const dfuflash_device*, size_t, dfuflash_segment_record*);
  // See dfuflash_flash_layout (ABI 3.2).
  int32_t (*flash_layout)(dfuflash_device*,
                          const char*,
                          const dfuflash_options*,
                          dfuflash_layout_report*);
  // See dfuflash_device_layout_report (ABI 3.2).
  int32_t (*device_layout_report)(const dfuflash_device*, dfuflash_layout_report*);
  // See dfuflash_device_layout_partition (ABI 3.2).
  int32_t (*device_layout_partition)(const dfuflash_device*, size_t, dfuflash_partition_record*);
} dfuflash_api;

#ifdef __cplusplus
extern "C" {
#endif // __cplusplus

// The library version, such as "0.1.0".
const char *dfuflash_version(void);

// (DFUFLASH_ABI_MAJOR << 16) | DFUFLASH_ABI_MINOR of the library.
uint32_t dfuflash_abi_version(void);

// A static description of a status code; any integer is accepted.
const char *dfuflash_status_str(int32_t code);

// The detailed message of the last failure on the calling thread ("" after a success). Valid
// until the next dfuflash call on this thread.
const char *dfuflash_last_error(void);

// Copies the last failure's message on the calling thread into `buf` (`len` bytes), NUL
// terminated, so it outlives later calls. `*out_needed` gets the size the whole message needs,
// NUL included. DFUFLASH_ERR_BUFFER_TOO_SMALL when it did not fit (then `buf` holds as much as
// fits, NUL terminated, when `len` > 0); `buf` may be NULL when `len` is 0. This call leaves
// the last error as it was.
int32_t dfuflash_last_error_copy(char *buf, size_t len, size_t *out_needed);

// Lists devices (DFUFLASH_LIST_SIMULATED adds the simulated models). Free with
// dfuflash_device_list_free.
int32_t dfuflash_device_list_new(uint32_t flags, dfuflash_device_list **out);

// Devices in a list (0 for NULL).
size_t dfuflash_device_list_count(const dfuflash_device_list *list);

// Describes device `index` of a list.
int32_t dfuflash_device_list_get(const dfuflash_device_list *list,
                                 size_t index,
                                 dfuflash_device_desc *out);

// Describes alt setting `alt_index` of device `index`.
int32_t dfuflash_device_list_alt(const dfuflash_device_list *list,
                                 size_t index,
                                 size_t alt_index,
                                 dfuflash_alt_desc *out);

// Sector `sector` of the layout of alt setting `alt_index` of device `index`: its address,
// size and permissions (bit 0 readable, bit 1 erasable, bit 2 writable).
int32_t dfuflash_device_list_sector(const dfuflash_device_list *list,
                                    size_t index,
                                    size_t alt_index,
                                    size_t sector,
                                    uint32_t *out_address,
                                    uint32_t *out_size,
                                    uint8_t *out_perms);

// Frees a list; NULL is a no-op.
void dfuflash_device_list_free(dfuflash_device_list *list);

// Opens the one device that matches: `vendor_id`/`product_id` 0 match any, `serial`,
// `path` and `alt_name` may be NULL; `alt` -1 means alt setting 0 unless `alt_name` names
// one. `alt_name` is an alt setting's whole name, or a prefix of it after the '@' (such as
// "Option") that only one alt setting has; a prefix several share is DFUFLASH_ERR_INVALID_ARGUMENT. An `alt` and an `alt_name` given together must name the same alt setting,
// else DFUFLASH_ERR_INVALID_ARGUMENT. An alt setting given here (or by dfuflash_device_select_alt) is a selection: a
// download of an image for another alt setting is refused with DFUFLASH_ERR_ALT_MISMATCH. Flags: DFUFLASH_LIST_SIMULATED also matches simulated models (path `sim:MODEL`).
// Several matches fail with DFUFLASH_ERR_AMBIGUOUS_DEVICE and a message listing them; an
// alt setting the device does not have with DFUFLASH_ERR_NO_SUCH_ALT.
int32_t dfuflash_open(uint16_t vendor_id,
                      uint16_t product_id,
                      const char *serial,
                      const char *path,
                      int32_t alt,
                      const char *alt_name,
                      uint32_t flags,
                      dfuflash_device **out);

// Opens a simulated device of `model` (see the simulator's models), keeping its memory in
// `state_file` when not NULL (read now, written after every operation and at close), on alt
// setting `alt` (-1: 0; any other value is a selection, as for dfuflash_open).
int32_t dfuflash_open_simulated(const char *model,
                                const char *state_file,
                                int32_t alt,
                                dfuflash_device **out);

// Closes a device (saving a simulated device's state file); NULL or a closed handle is a
// no-op. It cancels a running operation and waits for it to return; from inside a callback it
// never waits: the running operation frees the device when it returns. Either way the handle
// is invalid once close returns (see the lifecycle rules at the top).
void dfuflash_device_close(dfuflash_device *dev);

// Arms simulator faults on a simulated device: `KIND@REQUEST[,...]` with KIND disconnect,
// stall, timeout, power-loss, status=NAME, wedge-no-erase or panic (request numbers count from
// the device's first request). DFUFLASH_ERR_INVALID_ARGUMENT on a real device.
int32_t dfuflash_device_set_sim_faults(dfuflash_device *dev, const char *spec);

// Describes the open device: ids, strings (owned by the device, valid until its close), mode,
// transfer size and number of alt settings. Callable while an operation runs.
int32_t dfuflash_device_info(const dfuflash_device *dev, dfuflash_device_desc *out);

// Describes alt setting `alt_index` (0 to alt_count - 1, descriptor order) of the open device;
// the name is owned by the device. Callable while an operation runs.
int32_t dfuflash_device_alt(const dfuflash_device *dev, size_t alt_index, dfuflash_alt_desc *out);

// Sector `sector` of the layout of alt setting `alt_index` of the open device: its address,
// size and permissions (bit 0 readable, bit 1 erasable, bit 2 writable).
int32_t dfuflash_device_sector(const dfuflash_device *dev,
                               size_t alt_index,
                               size_t sector,
                               uint32_t *out_address,
                               uint32_t *out_size,
                               uint8_t *out_perms);

// The alt setting (bAlternateSetting) operations on the device use now: the one it was
// opened on, or the last dfuflash_device_select_alt. Callable while an operation runs.
int32_t dfuflash_device_current_alt(const dfuflash_device *dev, uint8_t *out_alt);

// Selects another alt setting of the open device: by number (`alt` 0..255), or by name
// (`alt` -1 and `alt_name`, matched as dfuflash_open does); both given must name the same alt
// setting, else DFUFLASH_ERR_INVALID_ARGUMENT. DFUFLASH_ERR_NO_SUCH_ALT when the device has
// no such alt setting.
int32_t dfuflash_device_select_alt(dfuflash_device *dev, int32_t alt, const char *alt_name);

// Loads a firmware file of any supported format (detected by content). For a raw binary pass
// `has_address` and its `address`; for other formats `has_address` must be false. `alt` is the
// alt setting for formats without targets.
int32_t dfuflash_image_load(const char *path,
                            uint32_t address,
                            bool has_address,
                            uint8_t alt,
                            dfuflash_image **out);

// An image of `len` bytes of caller memory (copied) at `address`, for alt setting `alt`.
int32_t dfuflash_image_from_memory(const uint8_t *data,
                                   size_t len,
                                   uint32_t address,
                                   uint8_t alt,
                                   dfuflash_image **out);

// Targets in an image (0 for NULL).
size_t dfuflash_image_target_count(const dfuflash_image *img);

// Target `t` of an image: its alt setting and number of segments.
int32_t dfuflash_image_target(const dfuflash_image *img,
                              size_t t,
                              uint8_t *out_alt,
                              size_t *out_segments);

// Segment `s` of target `t`: its address and bytes (owned by the image).
int32_t dfuflash_image_segment(const dfuflash_image *img,
                               size_t t,
                               size_t s,
                               uint32_t *out_address,
                               const uint8_t **out_data,
                               size_t *out_len);

// Frees an image; NULL is a no-op.
void dfuflash_image_free(dfuflash_image *img);

// New options with the defaults. Free with dfuflash_options_free.
int32_t dfuflash_options_new(dfuflash_options **out);

// Frees options; NULL is a no-op.
void dfuflash_options_free(dfuflash_options *opts);

// Sets one of the DFUFLASH_OPT_ flags.
int32_t dfuflash_options_set_flag(dfuflash_options *opts, int32_t flag, bool on);

// Jump address when leaving (default: the image's first address).
int32_t dfuflash_options_set_leave_address(dfuflash_options *opts, uint32_t address);

// Sets one of the DFUFLASH_TIMEOUT_ limits, in milliseconds (at least 1).
int32_t dfuflash_options_set_timeout_ms(dfuflash_options *opts, int32_t which, uint32_t ms);

// The progress callback (NULL: none). It runs on the calling thread during the call.
int32_t dfuflash_options_set_progress_callback(dfuflash_options *opts, dfuflash_progress_cb cb);

// The log callback (NULL: none). It runs on the calling thread during the call.
int32_t dfuflash_options_set_log_callback(dfuflash_options *opts, dfuflash_log_cb cb);

// The user data passed to both callbacks.
int32_t dfuflash_options_set_user_data(dfuflash_options *opts, void *user_data);

// Erases the sectors of [address, address + length) on the current alt setting, or the whole
// flash when `mass` (then address and length are ignored). `opts` may be NULL.
int32_t dfuflash_erase(dfuflash_device *dev,
                       const dfuflash_options *opts,
                       uint32_t address,
                       uint32_t length,
                       bool mass);

// The whole flash job: plan (refusals before any request), erase, write, verify, optional
// leave. `opts` may be NULL (defaults). Each target goes to its alt setting; when the caller
// selected one (dfuflash_open, dfuflash_device_select_alt), an image for another is refused
// with DFUFLASH_ERR_ALT_MISMATCH before any request.
int32_t dfuflash_download(dfuflash_device *dev,
                          const dfuflash_image *img,
                          const dfuflash_options *opts);

// Reads `len` bytes at `address` of the current alt setting into `buf`. A device that has
// fewer (a plain DFU 1.1 device's firmware ends where its upload ends) fails with
// DFUFLASH_ERR_SHORT_READ, the message saying how many it has, and `buf` is not written.
int32_t dfuflash_upload(dfuflash_device *dev,
                        const dfuflash_options *opts,
                        uint32_t address,
                        uint8_t *buf,
                        size_t len);

// Leaves DFU mode (DfuSe: jump to `address` when `has_address`). The disconnect that follows
// is success; a device that answers it is still in DFU mode fails with
// DFUFLASH_ERR_UNEXPECTED_STATE.
int32_t dfuflash_leave(dfuflash_device *dev, uint32_t address, bool has_address);

// Cancels the operation in progress on `dev`, from any thread (a closed handle fails with
// DFUFLASH_ERR_INVALID_HANDLE, never touches freed memory). The operation stops at its
// next point between transfers, leaves the device in dfuIDLE and fails with
// DFUFLASH_ERR_CANCELLED.
int32_t dfuflash_cancel(const dfuflash_device *dev);

// The report of the last successful operation on `dev`.
int32_t dfuflash_device_report(const dfuflash_device *dev, dfuflash_report *out);

// Target `index` (below the report's `target_count`) of the last download's record.
int32_t dfuflash_device_report_target(const dfuflash_device *dev,
                                      size_t index,
                                      dfuflash_target_record *out);

// Segment `index` (below the report's `segment_count`) of the last download's record.
int32_t dfuflash_device_report_segment(const dfuflash_device *dev,
                                       size_t index,
                                       dfuflash_segment_record *out);

// Flashes the FlashLayout.tsv at `tsv_path` (UTF-8) through ST's serial-boot phase protocol:
// every binary it names (relative to its directory) is read before any request; then the
// device asks for each partition by its Id, and is followed across each DETACH to its next
// boot stage (its ROM, then the loader the ROM started), until it reports the end. After the
// end the board has left DFU mode: close the handle. Once a layout has followed the board to
// another boot stage, whether it then succeeded or failed, dfuflash_device_info and _alt keep
// describing the board as it was opened, and any later operation on the handle fails with
// DFUFLASH_ERR_UNEXPECTED_STATE: close it and open the board again.
//
// `opts` may be NULL (defaults). Its progress and log callbacks, user data and
// DFUFLASH_TIMEOUT_ limits apply (DFUFLASH_TIMEOUT_REENUMERATE: how long each new boot stage
// may take to appear); its DFUFLASH_OPT_ flags do not. Callbacks run on the calling thread
// during the call; dfuflash_cancel from any thread stops it within 50 ms, in a transfer or
// while it waits for the board to come back as its next boot stage.
//
// `report` may be NULL; when not, set its `size` first: a size short of the base fields fails
// with DFUFLASH_ERR_INVALID_ARGUMENT before any request, and the report is written only on
// success. Each partition is read with dfuflash_device_layout_partition; the report is kept on
// the device until its next operation or close (dfuflash_device_layout_report reads it again).
// dfuflash_device_report then gives the layout's requests and times, and no sectors or bytes.
//
// Failures: DFUFLASH_ERR_TSV (the message names file, line and column), DFUFLASH_ERR_FILE_IO
// (the TSV, or a binary it names: its line and column), DFUFLASH_ERR_PHASE_DEVICE_ERROR (the
// device's text in the message), DFUFLASH_ERR_PHASE_UNKNOWN, DFUFLASH_ERR_PHASE_LOOP,
// DFUFLASH_ERR_PHASE_NO_ALT, DFUFLASH_ERR_PHASE_ENDED_EARLY (the rows never written in the
// message), DFUFLASH_ERR_MALFORMED_REPLY (a GetPhase reply too short),
// DFUFLASH_ERR_DEVICE_NOT_FOUND (the board did not come back), and those of any operation (USB,
// device status, cancel, deadline).
int32_t dfuflash_flash_layout(dfuflash_device *dev,
                              const char *tsv_path,
                              const dfuflash_options *opts,
                              dfuflash_layout_report *report);

// The report of the last dfuflash_flash_layout on `dev`, when that was its last successful
// operation; DFUFLASH_ERR_INVALID_ARGUMENT otherwise (ABI 3.2).
int32_t dfuflash_device_layout_report(const dfuflash_device *dev, dfuflash_layout_report *out);

// Partition `index` (below the layout report's `partition_count`) of the last layout flashed
// on `dev` (ABI 3.2).
int32_t dfuflash_device_layout_partition(const dfuflash_device *dev,
                                         size_t index,
                                         dfuflash_partition_record *out);

// The function table for hosts that load the library at run time (dlopen, LoadLibrary,
// QLibrary, ctypes): one exported entry point. NULL when this library does not implement
// `abi_major`.
const dfuflash_api *dfuflash_get_api(uint32_t abi_major);

#ifdef __cplusplus
}  // extern "C"
#endif  // __cplusplus

#endif  /* DFUFLASH_H */
