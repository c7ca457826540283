//! The operations on an open device (erase, download, upload, leave) and their cancellation.

use std::ffi::CString;

use super::boundary::{guard, null};
use super::callbacks::observer;
use super::codes::DFUFLASH_ERR_UNEXPECTED_STATE;
use super::device::dfuflash_device;
use super::handles;
use super::image::dfuflash_image;
use super::last_error::{err, fail};
use super::options::dfuflash_options;
use super::session::{save_state, DeviceInner};
use crate::device::AnyTransport;
use crate::error::Error;
use crate::job::{self, FlashOptions, Report};
use crate::progress::{CancelToken, Observer};
use crate::protocol::{Dfu, ProtocolError};

/// What an operation leaves on the device for the report functions to read. `closing`: the
/// handle was closed during the call and is freed when it returns, so nothing written to the
/// caller may point into the device.
pub(super) trait Kept {
    fn keep(self, inner: &mut DeviceInner, closing: bool) -> Result<(), i32>;
}

impl Kept for Report {
    fn keep(self, inner: &mut DeviceInner, _closing: bool) -> Result<(), i32> {
        // A message holds no NUL; one that did would only be cut short.
        inner.unverified = self
            .unverified
            .as_deref()
            .map(|m| CString::new(m.replace('\0', " ")).unwrap_or_default());
        inner.report = self;
        inner.layout = None;
        Ok(())
    }
}

/// Runs an operation on a device with the options' callbacks as observer. `op` also gets the
/// alt setting the caller selected, if any.
pub(super) fn operate<R: Kept>(
    dev: *const dfuflash_device,
    opts: *const dfuflash_options,
    op: impl FnOnce(
        &mut Dfu<AnyTransport>,
        &mut dyn Observer,
        &CancelToken,
        Option<u8>,
    ) -> Result<R, Error>,
) -> i32 {
    guard(|| {
        // This call's own reference: a close from another thread waits for it, and the memory
        // outlives a close from inside a callback.
        let d = handles::get(dev)?;
        let defaults;
        let o = if opts.is_null() {
            defaults = dfuflash_options::default();
            &defaults
        } else {
            unsafe { &*opts }
        };
        let mut s = d.session()?;
        d.cancel.reset();
        // A close that began before the reset cancels after it, or is seen here.
        d.check_open()?;
        if s.moved_on {
            return Err(fail(
                DFUFLASH_ERR_UNEXPECTED_STATE,
                "the board went on to its next boot stage in dfuflash_flash_layout: close this \
                 handle and open the board again",
            ));
        }
        s.dfu.set_options(o.engine.clone());
        let selected = d.selected_alt();
        let alt_before = s.dfu.alt();
        let alts_before = s.dfu.info().alt_settings.clone();
        if s.resync {
            // The call cut short may have left its deadline armed: it is not this one's.
            s.dfu.unwatch();
            s.dfu.ensure_idle().map_err(|e| err(e.into()))?;
            s.resync = false;
        }
        let mut observer = observer(o);
        let result = op(&mut s.dfu, &mut observer, &d.cancel, selected);
        if s.dfu.info().alt_settings != alts_before {
            s.moved_on = true;
        } else if s.dfu.alt() != alt_before && s.dfu.select_alt(alt_before).is_err() {
            // A job switches alt settings per target; later calls act on the one the caller had.
            d.set_alt(s.dfu.alt());
        }
        save_state(&s);
        let closing = d.closing.load(std::sync::atomic::Ordering::SeqCst);
        result.map_err(err)?.keep(&mut s, closing)
    })
}

/// Erases the sectors of [address, address + length) on the current alt setting, or the whole
/// flash when `mass` (then address and length are ignored). `opts` may be NULL.
#[no_mangle]
pub unsafe extern "C" fn dfuflash_erase(
    dev: *mut dfuflash_device,
    opts: *const dfuflash_options,
    address: u32,
    length: u32,
    mass: bool,
) -> i32 {
    operate(dev, opts, |dfu, obs, cancel, _| {
        if mass {
            job::mass_erase(dfu, obs, cancel)
        } else {
            job::erase_range(dfu, address, length, obs, cancel)
        }
    })
}

/// The whole flash job: plan (refusals before any request), erase, write, verify, optional
/// leave. `opts` may be NULL (defaults). Each target goes to its alt setting; when the caller
/// selected one (dfuflash_open, dfuflash_device_select_alt), an image for another is refused
/// with DFUFLASH_ERR_ALT_MISMATCH before any request.
#[no_mangle]
pub unsafe extern "C" fn dfuflash_download(
    dev: *mut dfuflash_device,
    img: *const dfuflash_image,
    opts: *const dfuflash_options,
) -> i32 {
    if img.is_null() {
        return guard(|| Err(null("img")));
    }
    operate(dev, opts, |dfu, obs, cancel, selected| {
        let mut flash_opts = if opts.is_null() {
            FlashOptions::default()
        } else {
            unsafe { (*opts).flash.clone() }
        };
        flash_opts.selected_alt = selected;
        job::flash(dfu, &unsafe { &*img }.image, &flash_opts, obs, cancel)
    })
}

/// Reads `len` bytes at `address` of the current alt setting into `buf`. A device that has
/// fewer (a plain DFU 1.1 device's firmware ends where its upload ends) fails with
/// DFUFLASH_ERR_SHORT_READ, the message saying how many it has, and `buf` is not written.
#[no_mangle]
pub unsafe extern "C" fn dfuflash_upload(
    dev: *mut dfuflash_device,
    opts: *const dfuflash_options,
    address: u32,
    buf: *mut u8,
    len: usize,
) -> i32 {
    if buf.is_null() {
        return guard(|| Err(null("buf")));
    }
    operate(dev, opts, |dfu, obs, cancel, _| {
        let length = u32::try_from(len)
            .map_err(|_| Error::InvalidArgument(format!("length {len} exceeds 4 GiB")))?;
        let start = dfu.requests_sent();
        let data = job::read(dfu, address, length, obs, cancel)?;
        if data.len() < len {
            // A plain DFU 1.1 device's firmware ends where its upload ends.
            return Err(ProtocolError::ShortRead {
                address,
                wanted: len,
                got: data.len(),
            }
            .into());
        }
        unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), buf, data.len()) };
        Ok(Report {
            requests: dfu.requests_sent() - start,
            ..Report::default()
        })
    })
}

/// Leaves DFU mode (DfuSe: jump to `address` when `has_address`). The disconnect that follows
/// is success; a device that answers it is still in DFU mode fails with
/// DFUFLASH_ERR_UNEXPECTED_STATE.
#[no_mangle]
pub unsafe extern "C" fn dfuflash_leave(
    dev: *mut dfuflash_device,
    address: u32,
    has_address: bool,
) -> i32 {
    operate(dev, std::ptr::null(), |dfu, _, _, _| {
        job::leave(dfu, has_address.then_some(address))
    })
}

/// Cancels the operation in progress on `dev`, from any thread (a closed handle fails with
/// DFUFLASH_ERR_INVALID_HANDLE, never touches freed memory). The operation stops at its
/// next point between transfers, leaves the device in dfuIDLE and fails with
/// DFUFLASH_ERR_CANCELLED.
#[no_mangle]
pub unsafe extern "C" fn dfuflash_cancel(dev: *const dfuflash_device) -> i32 {
    guard(|| {
        handles::get(dev)?.cancel.cancel();
        Ok(())
    })
}
