//! Control transfers a cancel can cut short: libusb's asynchronous API (through libusb1-sys,
//! rusb's own binding), so that a transfer the device holds (an ST ROM erasing inside
//! GETSTATUS) ends within a slice of the cancel instead of at its timeout. libusb completes a
//! cancelled transfer with LIBUSB_TRANSFER_CANCELLED; the device goes on with its work, and the
//! next request finds it busy or done, as after any cut DFU 1.1 request.

use std::ffi::{c_int, c_void};
use std::time::Duration;

use libusb1_sys as ffi;
use libusb1_sys::constants::{
    LIBUSB_CONTROL_SETUP_SIZE, LIBUSB_ERROR_INTERRUPTED, LIBUSB_TRANSFER_CANCELLED,
    LIBUSB_TRANSFER_COMPLETED, LIBUSB_TRANSFER_NO_DEVICE, LIBUSB_TRANSFER_OVERFLOW,
    LIBUSB_TRANSFER_STALL, LIBUSB_TRANSFER_TIMED_OUT,
};
use rusb::{Context, DeviceHandle, UsbContext};

use crate::progress::CancelToken;

/// How often a transfer in flight looks at the cancel.
const SLICE: Duration = Duration::from_millis(5);

/// How a transfer ended.
pub(super) enum Ended {
    /// Bytes moved.
    Done(usize),
    /// libusb's failure, as the synchronous API would have named it.
    Failed(rusb::Error),
    /// The cancel cut it short.
    Cut,
}

/// The setup packet of a control transfer.
pub(super) struct Setup {
    pub(super) request_type: u8,
    pub(super) request: u8,
    pub(super) value: u16,
    pub(super) index: u16,
}

/// One control transfer: `data` is sent (OUT) or filled (IN, by the direction bit of the
/// request type), within `timeout`, cut short once `cancel` is cancelled.
pub(super) fn control(
    handle: &DeviceHandle<Context>,
    setup: &Setup,
    data: &mut [u8],
    timeout: Duration,
    cancel: &CancelToken,
) -> Ended {
    let Ok(len) = u16::try_from(data.len()) else {
        return Ended::Failed(rusb::Error::InvalidParam);
    };
    let input = setup.request_type & 0x80 != 0;
    let head = LIBUSB_CONTROL_SETUP_SIZE;
    let mut buffer = vec![0u8; head + data.len()];
    if !input {
        buffer[head..].copy_from_slice(data);
    }
    let mut completed: c_int = 0;
    let ms = timeout.as_millis().clamp(1, u32::MAX as u128) as u32;
    // SAFETY: the transfer is allocated here and freed below only after libusb has completed
    // it (the loop runs until the callback has set `completed`); `buffer` and `completed`
    // outlive it, and nothing else holds them meanwhile.
    unsafe {
        let transfer = ffi::libusb_alloc_transfer(0);
        if transfer.is_null() {
            return Ended::Failed(rusb::Error::NoMem);
        }
        ffi::libusb_fill_control_setup(
            buffer.as_mut_ptr(),
            setup.request_type,
            setup.request,
            setup.value,
            setup.index,
            len,
        );
        ffi::libusb_fill_control_transfer(
            transfer,
            handle.as_raw(),
            buffer.as_mut_ptr(),
            on_complete,
            (&mut completed as *mut c_int).cast::<c_void>(),
            ms,
        );
        let rc = ffi::libusb_submit_transfer(transfer);
        if rc < 0 {
            ffi::libusb_free_transfer(transfer);
            return Ended::Failed(from_libusb(rc));
        }
        let ctx = handle.context().as_raw();
        let mut cut = false;
        while std::ptr::read_volatile(&completed) == 0 {
            if !cut && cancel.is_cancelled() {
                // Fails only when the transfer already completed: the loop then sees it.
                ffi::libusb_cancel_transfer(transfer);
                cut = true;
            }
            let tv = libc::timeval {
                tv_sec: 0,
                tv_usec: SLICE.as_micros() as _,
            };
            let rc = ffi::libusb_handle_events_timeout_completed(ctx, &tv, &mut completed);
            if rc < 0 && rc != LIBUSB_ERROR_INTERRUPTED && !cut {
                // The event loop itself failed: cut the transfer and wait for its callback.
                ffi::libusb_cancel_transfer(transfer);
                cut = true;
            }
        }
        let status = (*transfer).status;
        let moved = (*transfer).actual_length.max(0) as usize;
        ffi::libusb_free_transfer(transfer);
        match status {
            LIBUSB_TRANSFER_COMPLETED => {
                let moved = moved.min(data.len());
                if input {
                    data[..moved].copy_from_slice(&buffer[head..head + moved]);
                }
                Ended::Done(moved)
            }
            LIBUSB_TRANSFER_CANCELLED if cancel.is_cancelled() => Ended::Cut,
            LIBUSB_TRANSFER_CANCELLED => Ended::Failed(rusb::Error::Interrupted),
            LIBUSB_TRANSFER_TIMED_OUT => Ended::Failed(rusb::Error::Timeout),
            LIBUSB_TRANSFER_STALL => Ended::Failed(rusb::Error::Pipe),
            LIBUSB_TRANSFER_NO_DEVICE => Ended::Failed(rusb::Error::NoDevice),
            LIBUSB_TRANSFER_OVERFLOW => Ended::Failed(rusb::Error::Overflow),
            _ => Ended::Failed(rusb::Error::Io),
        }
    }
}

/// libusb's completion callback: marks the transfer complete for the loop above.
extern "system" fn on_complete(transfer: *mut ffi::libusb_transfer) {
    // SAFETY: libusb passes the transfer it completes, whose user_data is the loop's flag.
    unsafe {
        let done = (*transfer).user_data.cast::<c_int>();
        std::ptr::write_volatile(done, 1);
    }
}

/// A libusb error code as rusb names it.
fn from_libusb(rc: c_int) -> rusb::Error {
    use libusb1_sys::constants::*;
    match rc {
        LIBUSB_ERROR_IO => rusb::Error::Io,
        LIBUSB_ERROR_INVALID_PARAM => rusb::Error::InvalidParam,
        LIBUSB_ERROR_ACCESS => rusb::Error::Access,
        LIBUSB_ERROR_NO_DEVICE => rusb::Error::NoDevice,
        LIBUSB_ERROR_NOT_FOUND => rusb::Error::NotFound,
        LIBUSB_ERROR_BUSY => rusb::Error::Busy,
        LIBUSB_ERROR_TIMEOUT => rusb::Error::Timeout,
        LIBUSB_ERROR_OVERFLOW => rusb::Error::Overflow,
        LIBUSB_ERROR_PIPE => rusb::Error::Pipe,
        LIBUSB_ERROR_INTERRUPTED => rusb::Error::Interrupted,
        LIBUSB_ERROR_NO_MEM => rusb::Error::NoMem,
        LIBUSB_ERROR_NOT_SUPPORTED => rusb::Error::NotSupported,
        _ => rusb::Error::Other,
    }
}
