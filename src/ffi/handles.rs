//! The open devices, by handle. A `dfuflash_device *` is a number that names an entry here,
//! never the address of the device's memory: a call with a closed handle finds nothing and
//! fails with DFUFLASH_ERR_INVALID_HANDLE, and a call racing a close keeps the device alive
//! (each call holds its own reference) until it returns.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use super::boundary::null;
use super::codes::DFUFLASH_ERR_INVALID_HANDLE;
use super::device::dfuflash_device;
use super::last_error::fail;
use super::session::Device;

static OPEN: Mutex<BTreeMap<usize, Arc<Device>>> = Mutex::new(BTreeMap::new());
static NEXT_ID: AtomicUsize = AtomicUsize::new(1);
// Handles step like aligned pointers, so a host that stores them as pointers sees nothing odd.
const STRIDE: usize = 16;

fn open_devices() -> MutexGuard<'static, BTreeMap<usize, Arc<Device>>> {
    // Nothing panics while holding this lock; if something did, the map itself is still whole.
    OPEN.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Registers an opened device and returns its new handle (never reused).
pub(super) fn register(device: Device) -> *mut dfuflash_device {
    let key = NEXT_ID.fetch_add(1, Ordering::Relaxed) * STRIDE;
    open_devices().insert(key, Arc::new(device));
    key as *mut dfuflash_device
}

/// The device a handle names.
pub(super) fn get(dev: *const dfuflash_device) -> Result<Arc<Device>, i32> {
    if dev.is_null() {
        return Err(null("dev"));
    }
    open_devices().get(&(dev as usize)).cloned().ok_or_else(|| {
        fail(
            DFUFLASH_ERR_INVALID_HANDLE,
            format!("{dev:p} is not an open device (closed already, or never opened)"),
        )
    })
}

/// Takes the device out of the table; later calls with the handle fail. None for an unknown
/// handle (a second close).
pub(super) fn remove(dev: *const dfuflash_device) -> Option<Arc<Device>> {
    open_devices().remove(&(dev as usize))
}
