//! What a device handle names: the open device, one call's hold on it (a session), and the
//! state that makes closing, cancelling and a contained panic safe.

use std::cell::Cell;
use std::ffi::CString;
use std::ops::{Deref, DerefMut};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Mutex, MutexGuard, TryLockError};

use super::codes::{DFUFLASH_ERR_BUSY, DFUFLASH_ERR_INVALID_HANDLE};
use super::describe::Described;
use super::last_error::fail;
use crate::device::AnyTransport;
use crate::job::Report;
use crate::progress::CancelToken;
use crate::protocol::Dfu;

/// What a handle names.
pub(super) struct Device {
    pub(super) cancel: CancelToken,
    pub(super) closing: AtomicBool,
    pub(super) inner: Mutex<DeviceInner>,
    pub(super) described: Described,
    pub(super) alt: AtomicU8,
    // The caller chose the alt setting (open or select_alt), so images must be for it.
    pub(super) alt_selected: AtomicBool,
}

pub(super) struct DeviceInner {
    pub(super) dfu: Dfu<AnyTransport>,
    pub(super) state_file: Option<PathBuf>,
    pub(super) report: Report,
    // The report's `unverified`, as C reads it.
    pub(super) unverified: Option<CString>,
    // The last operation's, when it flashed a layout.
    pub(super) layout: Option<super::layout::LayoutRecord>,
    // A panic interrupted the last call: the device's DFU state is unknown.
    pub(super) resync: bool,
    // A layout followed the board to another boot stage: the handle no longer describes it.
    pub(super) moved_on: bool,
}

/// One call's hold on a device.
pub(super) struct Session<'a> {
    inner: MutexGuard<'a, DeviceInner>,
}

impl Deref for Session<'_> {
    type Target = DeviceInner;
    fn deref(&self) -> &DeviceInner {
        &self.inner
    }
}

impl DerefMut for Session<'_> {
    fn deref_mut(&mut self) -> &mut DeviceInner {
        &mut self.inner
    }
}

impl Drop for Session<'_> {
    fn drop(&mut self) {
        SESSIONS_ON_THIS_THREAD.with(|n| n.set(n.get() - 1));
    }
}

thread_local! {
    // Calls in progress on this thread (a callback may call into another device), so a close
    // from inside any callback never blocks: two callbacks closing each other's devices would
    // otherwise wait for each other forever.
    pub(super) static SESSIONS_ON_THIS_THREAD: Cell<u32> = const { Cell::new(0) };
}

pub(super) fn lock_ignoring_poison<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Device {
    /// The device for one call: BUSY while another call holds it. A lock poisoned by a
    /// contained panic is taken back, and the next operation first returns the device to a
    /// known state.
    pub(super) fn session(&self) -> Result<Session<'_>, i32> {
        let inner = match self.inner.try_lock() {
            Ok(inner) => inner,
            Err(TryLockError::WouldBlock) => {
                return Err(fail(
                    DFUFLASH_ERR_BUSY,
                    "the device is in use by another call",
                ))
            }
            Err(TryLockError::Poisoned(poisoned)) => {
                let mut inner = poisoned.into_inner();
                self.inner.clear_poison();
                inner.resync = true;
                inner
            }
        };
        self.check_open()?;
        SESSIONS_ON_THIS_THREAD.with(|n| n.set(n.get() + 1));
        Ok(Session { inner })
    }

    /// Fails once a close has begun.
    pub(super) fn check_open(&self) -> Result<(), i32> {
        if self.closing.load(Ordering::SeqCst) {
            return Err(fail(
                DFUFLASH_ERR_INVALID_HANDLE,
                "the device is being closed",
            ));
        }
        Ok(())
    }

    pub(super) fn set_alt(&self, alt: u8) {
        self.alt.store(alt, Ordering::SeqCst);
    }

    /// The alt setting the caller selected explicitly, if any.
    pub(super) fn selected_alt(&self) -> Option<u8> {
        self.alt_selected
            .load(Ordering::SeqCst)
            .then(|| self.alt.load(Ordering::SeqCst))
    }
}

pub(super) fn save_state(inner: &DeviceInner) {
    if let (Some(path), Some(sim)) = (&inner.state_file, inner.dfu.transport().sim()) {
        let _ = sim.save_state(path);
    }
}
