//! An open device: opening one (real or simulated), closing it, and arming simulator faults.

use std::ffi::c_char;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use super::boundary::{guard, null, str_arg};
use super::codes::{DFUFLASH_ERR_BUSY, DFUFLASH_ERR_INVALID_ARGUMENT};
use super::device_list::DFUFLASH_LIST_SIMULATED;
use super::last_error::{err, fail};
use crate::device::{self, AnyTransport, Selector};
use crate::job::Report;
use crate::progress::CancelToken;
use crate::protocol::{Dfu, EngineOptions};
use crate::sim::{Faults, SimDevice};

/// An open device. Used by one thread at a time; dfuflash_cancel may be called from any thread.
pub struct dfuflash_device {
    pub(super) cancel: CancelToken,
    inner: Mutex<DeviceInner>,
}

pub(super) struct DeviceInner {
    pub(super) dfu: Dfu<AnyTransport>,
    state_file: Option<PathBuf>,
    pub(super) report: Report,
    pub(super) sectors: Vec<u32>,
    pub(super) workaround: Vec<u32>,
}

impl dfuflash_device {
    /// The device for one call; BUSY while another call holds it.
    pub(super) fn lock(&self) -> Result<MutexGuard<'_, DeviceInner>, i32> {
        self.inner
            .try_lock()
            .map_err(|_| fail(DFUFLASH_ERR_BUSY, "the device is in use by another call"))
    }
}

fn new_device(dfu: Dfu<AnyTransport>, state_file: Option<PathBuf>) -> *mut dfuflash_device {
    Box::into_raw(Box::new(dfuflash_device {
        cancel: CancelToken::new(),
        inner: Mutex::new(DeviceInner {
            dfu,
            state_file,
            report: Report::default(),
            sectors: Vec::new(),
            workaround: Vec::new(),
        }),
    }))
}

/// Opens the one device that matches: `vendor_id`/`product_id` 0 match any, `serial`,
/// `path` and `alt_name` may be NULL; `alt` -1 means alt setting 0 unless `alt_name` names
/// one. Flags: DFUFLASH_LIST_SIMULATED also matches simulated models (path `sim:MODEL`).
/// Several matches fail with DFUFLASH_ERR_AMBIGUOUS_DEVICE and a message listing them.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn dfuflash_open(
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
        let mut sel = Selector::default();
        sel.vendor_id = (vendor_id != 0).then_some(vendor_id);
        sel.product_id = (product_id != 0).then_some(product_id);
        sel.serial = unsafe { str_arg(serial, "serial")? }.map(String::from);
        sel.path = unsafe { str_arg(path, "path")? }.map(String::from);
        sel.alt_name = unsafe { str_arg(alt_name, "alt_name")? }.map(String::from);
        sel.alt = u8::try_from(alt).ok();
        let entries = device::list(flags & DFUFLASH_LIST_SIMULATED != 0).map_err(err)?;
        let entry = device::select(&entries, &sel).map_err(err)?;
        let alt = device::resolve_alt(&entry.info, &sel).map_err(err)?;
        let t = device::open(entry, Duration::from_secs(10)).map_err(err)?;
        let dfu = Dfu::open(t, alt, EngineOptions::default()).map_err(|e| err(e.into()))?;
        unsafe { *out = new_device(dfu, None) };
        Ok(())
    })
}

/// Opens a simulated device of `model` (see the simulator's models), keeping its memory in
/// `state_file` when not NULL (read now, written after every operation and at close), on alt
/// setting `alt` (-1: 0).
#[no_mangle]
pub extern "C" fn dfuflash_open_simulated(
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
        let sim = match &state {
            Some(p) => SimDevice::with_state(model, p),
            None => SimDevice::new(model),
        }
        .map_err(|e| err(e.into()))?;
        let alt = u8::try_from(alt).unwrap_or(0);
        let dfu = Dfu::open(AnyTransport::Sim(sim), alt, EngineOptions::default())
            .map_err(|e| err(e.into()))?;
        unsafe { *out = new_device(dfu, state) };
        Ok(())
    })
}

/// Closes a device (saving a simulated device's state file); NULL is a no-op.
#[no_mangle]
pub extern "C" fn dfuflash_device_close(dev: *mut dfuflash_device) {
    if dev.is_null() {
        return;
    }
    let _ = catch_unwind(AssertUnwindSafe(|| {
        let d = unsafe { Box::from_raw(dev) };
        let inner = d
            .inner
            .into_inner()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        save_state(&inner);
    }));
}

/// Arms simulator faults on a simulated device: `KIND@REQUEST[,...]` with KIND disconnect,
/// stall, timeout, power-loss, status=NAME, wedge-no-erase or panic (request numbers count from
/// the device's first request). DFUFLASH_ERR_INVALID_ARGUMENT on a real device.
#[no_mangle]
pub extern "C" fn dfuflash_device_set_sim_faults(
    dev: *mut dfuflash_device,
    spec: *const c_char,
) -> i32 {
    guard(|| {
        if dev.is_null() {
            return Err(null("dev"));
        }
        let spec = unsafe { str_arg(spec, "spec")? }.ok_or_else(|| null("spec"))?;
        let faults = Faults::parse(spec).map_err(|m| fail(DFUFLASH_ERR_INVALID_ARGUMENT, m))?;
        let d = unsafe { &*dev };
        let mut inner = d.lock()?;
        let sim = inner
            .dfu
            .transport_mut()
            .sim_mut()
            .ok_or_else(|| fail(DFUFLASH_ERR_INVALID_ARGUMENT, "not a simulated device"))?;
        sim.set_faults(faults);
        Ok(())
    })
}

pub(super) fn save_state(inner: &DeviceInner) {
    if let (Some(path), Some(sim)) = (&inner.state_file, inner.dfu.transport().sim()) {
        let _ = sim.save_state(path);
    }
}
