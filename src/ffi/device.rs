//! The C functions of an open device: opening one (real or simulated), what it is, its alt
//! setting, closing it, and arming simulator faults. The lifecycle rules are in the header's
//! opening block; what a handle names is in `session`.

use std::ffi::c_char;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Mutex, TryLockError};
use std::time::Duration;

use super::boundary::{guard, null, str_arg};
use super::codes::DFUFLASH_ERR_INVALID_ARGUMENT;
use super::describe::{dfuflash_alt_desc, dfuflash_device_desc, Described};
use super::device_list::include_simulated;
use super::handles;
use super::last_error::{err, fail};
use super::session::{
    lock_ignoring_poison, save_state, Device, DeviceInner, SESSIONS_ON_THIS_THREAD,
};
use super::sized::fill;
use crate::device::{self, AnyTransport, Selector};
use crate::error::Error;
use crate::job::Report;
use crate::progress::CancelToken;
use crate::protocol::{Dfu, EngineOptions};
use crate::sim::{Faults, SimDevice};

/// An open device (an opaque handle: see the lifecycle rules in the header).
pub struct dfuflash_device {
    _opaque: [u8; 0],
}

fn register(
    dfu: Dfu<AnyTransport>,
    state_file: Option<PathBuf>,
    alt_selected: bool,
) -> *mut dfuflash_device {
    let simulated = dfu.transport().sim().is_some();
    let described = Described::new(dfu.info().clone(), simulated);
    let alt = dfu.alt();
    handles::register(Device {
        cancel: CancelToken::new(),
        closing: AtomicBool::new(false),
        described,
        alt: AtomicU8::new(alt),
        alt_selected: AtomicBool::new(alt_selected),
        inner: Mutex::new(DeviceInner {
            dfu,
            state_file,
            report: Report::default(),
            unverified: None,
            layout: None,
            resync: false,
            moved_on: false,
        }),
    })
}

/// An alt setting argument: -1 for none, else 0..=255.
fn alt_arg(alt: i32) -> Result<Option<u8>, i32> {
    match alt {
        -1 => Ok(None),
        _ => u8::try_from(alt).map(Some).map_err(|_| {
            fail(
                DFUFLASH_ERR_INVALID_ARGUMENT,
                format!("alt setting {alt} is out of range (0 to 255, or -1 for none)"),
            )
        }),
    }
}

/// Opens the one device that matches: `vendor_id`/`product_id` 0 match any, `serial`,
/// `path` and `alt_name` may be NULL; `alt` -1 means alt setting 0 unless `alt_name` names
/// one. `alt_name` is an alt setting's whole name, or a prefix of it after the '@' (such as
/// "Option") that only one alt setting has; a prefix several share is DFUFLASH_ERR_INVALID_ARGUMENT. An `alt` and an `alt_name` given together must name the same alt setting,
/// else DFUFLASH_ERR_INVALID_ARGUMENT. An alt setting given here (or by dfuflash_device_select_alt) is a selection: a
/// download of an image for another alt setting is refused with DFUFLASH_ERR_ALT_MISMATCH. Flags: DFUFLASH_LIST_SIMULATED also matches simulated models (path `sim:MODEL`).
/// Several matches fail with DFUFLASH_ERR_AMBIGUOUS_DEVICE and a message listing them; an
/// alt setting the device does not have with DFUFLASH_ERR_NO_SUCH_ALT.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn dfuflash_open(
    vendor_id: u16,
    product_id: u16,
    serial: *const c_char,
    path: *const c_char,
    alt: i32,
    alt_name: *const c_char,
    flags: u32,
    out: *mut *mut dfuflash_device,
) -> i32 {
    guard(|| {
        if out.is_null() {
            return Err(null("out"));
        }
        let sel = Selector {
            vendor_id: (vendor_id != 0).then_some(vendor_id),
            product_id: (product_id != 0).then_some(product_id),
            serial: unsafe { str_arg(serial, "serial")? }.map(String::from),
            path: unsafe { str_arg(path, "path")? }.map(String::from),
            alt: alt_arg(alt)?,
            alt_name: unsafe { str_arg(alt_name, "alt_name")? }.map(String::from),
        };
        let entries = device::list(include_simulated(flags)?).map_err(err)?;
        let entry = device::select(&entries, &sel).map_err(err)?;
        let alt = device::resolve_alt(&entry.info, &sel).map_err(err)?;
        let selected = sel.alt.is_some() || sel.alt_name.is_some();
        let t = device::open(entry, Duration::from_secs(10)).map_err(err)?;
        let dfu = Dfu::open(t, alt, EngineOptions::default()).map_err(|e| err(e.into()))?;
        let state = entry.state_file().map(PathBuf::from);
        unsafe { *out = register(dfu, state, selected) };
        Ok(())
    })
}

/// Opens a simulated device of `model` (see the simulator's models), keeping its memory in
/// `state_file` when not NULL (read now, written after every operation and at close), on alt
/// setting `alt` (-1: 0; any other value is a selection, as for dfuflash_open).
#[no_mangle]
pub unsafe extern "C" fn dfuflash_open_simulated(
    model: *const c_char,
    state_file: *const c_char,
    alt: i32,
    out: *mut *mut dfuflash_device,
) -> i32 {
    guard(|| {
        if out.is_null() {
            return Err(null("out"));
        }
        let model = unsafe { str_arg(model, "model")? }.ok_or_else(|| null("model"))?;
        let state = unsafe { str_arg(state_file, "state_file")? }.map(PathBuf::from);
        let selected = alt_arg(alt)?;
        let sim = match &state {
            Some(p) => SimDevice::with_state(model, p),
            None => SimDevice::new(model),
        }
        .map_err(|e| err(e.into()))?;
        let dfu = Dfu::open(
            AnyTransport::Sim(sim),
            selected.unwrap_or(0),
            EngineOptions::default(),
        )
        .map_err(|e| err(e.into()))?;
        unsafe { *out = register(dfu, state, selected.is_some()) };
        Ok(())
    })
}

/// Closes a device (saving a simulated device's state file); NULL or a closed handle is a
/// no-op. It cancels a running operation and waits for it to return; from inside a callback it
/// never waits: the running operation frees the device when it returns. Either way the handle
/// is invalid once close returns (see the lifecycle rules at the top).
#[no_mangle]
pub unsafe extern "C" fn dfuflash_device_close(dev: *mut dfuflash_device) {
    if dev.is_null() {
        return;
    }
    let _ = catch_unwind(AssertUnwindSafe(|| {
        let Some(d) = handles::remove(dev) else {
            return;
        };
        d.closing.store(true, Ordering::SeqCst);
        d.cancel.cancel();
        // Inside a callback (of this device or another) close never waits: a running call
        // frees the device when it returns, after saving its state.
        if SESSIONS_ON_THIS_THREAD.with(|n| n.get()) > 0 {
            match d.inner.try_lock() {
                Ok(inner) => save_state(&inner),
                Err(TryLockError::Poisoned(p)) => save_state(&p.into_inner()),
                Err(TryLockError::WouldBlock) => {}
            }
            return;
        }
        let inner = lock_ignoring_poison(&d.inner);
        save_state(&inner);
    }));
}

/// Arms simulator faults on a simulated device: `KIND@REQUEST[,...]` with KIND disconnect,
/// stall, timeout, power-loss, status=NAME, wedge-no-erase or panic (request numbers count from
/// the device's first request). DFUFLASH_ERR_INVALID_ARGUMENT on a real device.
#[no_mangle]
pub unsafe extern "C" fn dfuflash_device_set_sim_faults(
    dev: *mut dfuflash_device,
    spec: *const c_char,
) -> i32 {
    guard(|| {
        let d = handles::get(dev)?;
        let spec = unsafe { str_arg(spec, "spec")? }.ok_or_else(|| null("spec"))?;
        let faults = Faults::parse(spec).map_err(|m| fail(DFUFLASH_ERR_INVALID_ARGUMENT, m))?;
        let mut s = d.session()?;
        let sim = s
            .dfu
            .transport_mut()
            .sim_mut()
            .ok_or_else(|| fail(DFUFLASH_ERR_INVALID_ARGUMENT, "not a simulated device"))?;
        sim.set_faults(faults);
        Ok(())
    })
}

/// Describes the open device: ids, strings (owned by the device, valid until its close), mode,
/// transfer size and number of alt settings. Callable while an operation runs.
#[no_mangle]
pub unsafe extern "C" fn dfuflash_device_info(
    dev: *const dfuflash_device,
    out: *mut dfuflash_device_desc,
) -> i32 {
    guard(|| {
        let d = handles::get(dev)?;
        if out.is_null() {
            return Err(null("out"));
        }
        unsafe { fill(out, d.described.desc(), "out") }?;
        Ok(())
    })
}

/// Describes alt setting `alt_index` (0 to alt_count - 1, descriptor order) of the open device;
/// the name is owned by the device. Callable while an operation runs.
#[no_mangle]
pub unsafe extern "C" fn dfuflash_device_alt(
    dev: *const dfuflash_device,
    alt_index: usize,
    out: *mut dfuflash_alt_desc,
) -> i32 {
    guard(|| {
        let d = handles::get(dev)?;
        if out.is_null() {
            return Err(null("out"));
        }
        let desc = d.described.alt(alt_index)?;
        unsafe { fill(out, desc, "out") }?;
        Ok(())
    })
}

/// Sector `sector` of the layout of alt setting `alt_index` of the open device: its address,
/// size and permissions (bit 0 readable, bit 1 erasable, bit 2 writable).
#[no_mangle]
pub unsafe extern "C" fn dfuflash_device_sector(
    dev: *const dfuflash_device,
    alt_index: usize,
    sector: usize,
    out_address: *mut u32,
    out_size: *mut u32,
    out_perms: *mut u8,
) -> i32 {
    guard(|| {
        let d = handles::get(dev)?;
        unsafe {
            d.described
                .write_sector(alt_index, sector, out_address, out_size, out_perms)
        }
    })
}

/// The alt setting (bAlternateSetting) operations on the device use now: the one it was
/// opened on, or the last dfuflash_device_select_alt. Callable while an operation runs.
#[no_mangle]
pub unsafe extern "C" fn dfuflash_device_current_alt(
    dev: *const dfuflash_device,
    out_alt: *mut u8,
) -> i32 {
    guard(|| {
        let d = handles::get(dev)?;
        if out_alt.is_null() {
            return Err(null("out_alt"));
        }
        unsafe { *out_alt = d.alt.load(Ordering::SeqCst) };
        Ok(())
    })
}

/// Selects another alt setting of the open device: by number (`alt` 0..255), or by name
/// (`alt` -1 and `alt_name`, matched as dfuflash_open does); both given must name the same alt
/// setting, else DFUFLASH_ERR_INVALID_ARGUMENT. DFUFLASH_ERR_NO_SUCH_ALT when the device has
/// no such alt setting.
#[no_mangle]
pub unsafe extern "C" fn dfuflash_device_select_alt(
    dev: *mut dfuflash_device,
    alt: i32,
    alt_name: *const c_char,
) -> i32 {
    guard(|| {
        let d = handles::get(dev)?;
        let sel = Selector {
            alt: alt_arg(alt)?,
            alt_name: unsafe { str_arg(alt_name, "alt_name")? }.map(String::from),
            ..Selector::default()
        };
        if sel.alt.is_none() && sel.alt_name.is_none() {
            return Err(fail(
                DFUFLASH_ERR_INVALID_ARGUMENT,
                "give an alt setting number (0 to 255) or a name",
            ));
        }
        let number = device::resolve_alt(&d.described.info, &sel).map_err(err)?;
        let mut s = d.session()?;
        s.dfu.select_alt(number).map_err(|e| err(Error::from(e)))?;
        d.set_alt(number);
        d.alt_selected.store(true, Ordering::SeqCst);
        Ok(())
    })
}
