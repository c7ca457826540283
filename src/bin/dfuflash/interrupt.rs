//! Ctrl-C (and SIGTERM on Unix, Ctrl-Break on Windows) for `flash` (one board or many): the
//! first cancels the jobs through the library's cancel token (each board is left in dfuIDLE at
//! its next point between transfers, and the command reports each board); a second exits at
//! once with 130, for a user who will not wait.
//!
//! Unix: a sigaction handler. Windows: a console control handler, which the system runs on a
//! thread of its own. Elsewhere the signals keep their default action.

#[cfg(any(unix, windows))]
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

use dfuflash::progress::CancelToken;

/// What the first Ctrl-C does to many boards, said when it does it.
pub const CANCELLING: &str =
    "cancelling: each board stops now, in DFU mode: in dfuIDLE, or busy with a command whose wait is cut short (Ctrl-C again to exit at once)";

static TOKEN: OnceLock<CancelToken> = OnceLock::new();
#[cfg(any(unix, windows))]
static SIGNALLED: AtomicBool = AtomicBool::new(false);

/// Cancels `token` on Ctrl-C from now on (once per process: later calls keep the first token).
pub fn cancel_on_signal(token: &CancelToken) {
    let _ = TOKEN.set(token.clone());
    install();
}

/// The first interrupt cancels; the second exits at once.
#[cfg(any(unix, windows))]
fn interrupted() {
    if SIGNALLED.swap(true, Ordering::SeqCst) {
        exit_now();
    }
    // A store to the token's flag once it is set: no allocation, no lock.
    if let Some(t) = TOKEN.get() {
        t.cancel();
    }
}

#[cfg(unix)]
fn install() {
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
    interrupted();
}

#[cfg(unix)]
fn exit_now() -> ! {
    // SAFETY: _exit is async-signal-safe.
    unsafe { libc::_exit(130) }
}

#[cfg(windows)]
fn install() {
    use windows_sys::Win32::System::Console::SetConsoleCtrlHandler;
    // SAFETY: registers a function that lives as long as the program. A parent may have left
    // its children ignoring Ctrl-C: normal processing first, then the handler.
    unsafe {
        SetConsoleCtrlHandler(None, 0);
        SetConsoleCtrlHandler(Some(on_ctrl), 1);
    }
}

#[cfg(windows)]
unsafe extern "system" fn on_ctrl(kind: u32) -> windows_sys::core::BOOL {
    use windows_sys::Win32::System::Console::{CTRL_BREAK_EVENT, CTRL_C_EVENT};
    match kind {
        CTRL_C_EVENT | CTRL_BREAK_EVENT => {
            interrupted();
            1 // handled: the process goes on and reports each board
        }
        _ => 0, // closing the console or logging off: the default action
    }
}

#[cfg(windows)]
fn exit_now() -> ! {
    std::process::exit(130)
}

#[cfg(not(any(unix, windows)))]
fn install() {}
