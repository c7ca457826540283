//! Ctrl-C and SIGTERM for `flash` (one board or many): the first cancels the jobs through the
//! library's cancel token (each board is left in dfuIDLE at its next point between transfers,
//! and the command reports each board); a second exits at once with 130, for a user who will
//! not wait.
//!
//! Unix only; elsewhere the signals keep their default action.

#[cfg(unix)]
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

use dfuflash::progress::CancelToken;

static TOKEN: OnceLock<CancelToken> = OnceLock::new();
#[cfg(unix)]
static SIGNALLED: AtomicBool = AtomicBool::new(false);

/// Cancels `token` on SIGINT or SIGTERM from now on (once per process: later calls keep the
/// first token).
pub fn cancel_on_signal(token: &CancelToken) {
    let _ = TOKEN.set(token.clone());
    #[cfg(unix)]
    // SAFETY: the handler only does what a signal handler may (atomic loads and stores, and
    // _exit); the struct is fully initialised before sigaction reads it.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
        // Interrupted reads and sleeps restart: the workers must not see EINTR as a failure.
        action.sa_flags = libc::SA_RESTART;
        libc::sigemptyset(&mut action.sa_mask);
        for signal in [libc::SIGINT, libc::SIGTERM] {
            libc::sigaction(signal, &action, std::ptr::null_mut());
        }
    }
}

#[cfg(unix)]
extern "C" fn on_signal(_: libc::c_int) {
    if SIGNALLED.swap(true, Ordering::SeqCst) {
        // SAFETY: _exit is async-signal-safe.
        unsafe { libc::_exit(130) };
    }
    // A store to the token's flag once it is set: no allocation, no lock.
    if let Some(t) = TOKEN.get() {
        t.cancel();
    }
}
