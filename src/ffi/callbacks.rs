//! Progress and log callbacks: their C types and constants, and the observer that turns the
//! jobs' events into calls of the caller's functions.

use std::ffi::{c_char, c_void, CString};

use super::options::dfuflash_options;
use super::sized::{end_of, no_tail_padding, own_size};
use crate::progress::{Event, Flow, Level, Phase, SectorProgress};

/// A progress callback returns this to go on.
pub const DFUFLASH_CONTINUE: i32 = 0;
/// A progress callback returns this to cancel; the call then fails with DFUFLASH_ERR_CANCELLED.
pub const DFUFLASH_CANCEL: i32 = 1;

/// Phase: erasing (done/total count sectors; a mass erase counts 1).
pub const DFUFLASH_PHASE_ERASE: i32 = 1;
/// Phase: writing (bytes).
pub const DFUFLASH_PHASE_WRITE: i32 = 2;
/// Phase: reading back and comparing (bytes).
pub const DFUFLASH_PHASE_VERIFY: i32 = 3;
/// Phase: reading into the caller's buffer (bytes).
pub const DFUFLASH_PHASE_READ: i32 = 4;
/// Phase: leaving DFU mode.
pub const DFUFLASH_PHASE_LEAVE: i32 = 5;
/// Phase: reading the planned sectors before erasing, to skip those that already hold what
/// the download would leave (bytes).
pub const DFUFLASH_PHASE_COMPARE: i32 = 6;
/// Phase: writing the boot block last, after the rest was written and verified, then reading it
/// back (bytes: its length twice). See DFUFLASH_OPT_BOOT_LAST.
pub const DFUFLASH_PHASE_BOOT: i32 = 7;

/// Log level: request-level detail.
pub const DFUFLASH_LOG_DEBUG: i32 = 0;
/// Log level: what happened.
pub const DFUFLASH_LOG_INFO: i32 = 1;
/// Log level: something the user should know (a device workaround fired).
pub const DFUFLASH_LOG_WARN: i32 = 2;
/// Log level: a failure.
pub const DFUFLASH_LOG_ERROR: i32 = 3;

/// What a progress callback is told. Fields are only appended: read one only when `size`
/// reaches past it (see "Structs that grow").
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct dfuflash_progress {
    /// sizeof(dfuflash_progress) of the library.
    pub size: u32,
    /// One of the DFUFLASH_PHASE_ constants.
    pub phase: i32,
    /// Units done in the phase (0 when the phase starts).
    pub done: u64,
    /// Units in the phase.
    pub total: u64,
    /// Address of the sector or block just finished.
    pub address: u32,
    /// Erase: index of the sector in the device's layout; -1 otherwise.
    pub sector_index: i32,
    /// Erase: this is sector k of n, counting from 1; 0 otherwise.
    pub sector_k: i32,
    /// Erase: sectors the job erases; 0 otherwise.
    pub sector_n: i32,
}

no_tail_padding!(dfuflash_progress, sector_n: i32);

/// Progress callback: return DFUFLASH_CONTINUE or DFUFLASH_CANCEL.
pub type dfuflash_progress_cb =
    Option<extern "C" fn(user_data: *mut c_void, progress: *const dfuflash_progress) -> i32>;
/// Log callback: a DFUFLASH_LOG_ level and a NUL-terminated message valid during the call.
pub type dfuflash_log_cb =
    Option<extern "C" fn(user_data: *mut c_void, level: i32, message: *const c_char)>;

fn level_code(l: Level) -> i32 {
    match l {
        Level::Debug => DFUFLASH_LOG_DEBUG,
        Level::Info => DFUFLASH_LOG_INFO,
        Level::Warn => DFUFLASH_LOG_WARN,
        Level::Error => DFUFLASH_LOG_ERROR,
    }
}

fn call_progress(
    cb: dfuflash_progress_cb,
    user: *mut c_void,
    phase: Phase,
    done: u64,
    total: u64,
    address: u32,
    sector: Option<SectorProgress>,
) -> Flow {
    let Some(cb) = cb else { return Flow::Continue };
    let p = dfuflash_progress {
        size: own_size::<dfuflash_progress>(),
        phase: match phase {
            Phase::Erase => DFUFLASH_PHASE_ERASE,
            Phase::Write => DFUFLASH_PHASE_WRITE,
            Phase::Verify => DFUFLASH_PHASE_VERIFY,
            Phase::Read => DFUFLASH_PHASE_READ,
            Phase::Compare => DFUFLASH_PHASE_COMPARE,
            Phase::Boot => DFUFLASH_PHASE_BOOT,
            _ => DFUFLASH_PHASE_LEAVE,
        },
        done,
        total,
        address,
        // No sector yet (k 0, at the erase's start): index -1.
        sector_index: sector
            .filter(|s| s.k > 0)
            .map(|s| s.index as i32)
            .unwrap_or(-1),
        sector_k: sector.map(|s| s.k as i32).unwrap_or(0),
        sector_n: sector.map(|s| s.n as i32).unwrap_or(0),
    };
    if cb(user, &p) == DFUFLASH_CANCEL {
        Flow::Cancel
    } else {
        Flow::Continue
    }
}

/// The observer of one operation: forwards events to the options' callbacks.
pub(super) fn observer(o: &dfuflash_options) -> impl FnMut(&Event<'_>) -> Flow {
    let (progress, log, user) = (o.progress, o.log, o.user_data);
    move |ev: &Event<'_>| -> Flow {
        match *ev {
            Event::PhaseStart { phase, total } => {
                // The erase's start already says how many sectors the job erases.
                let sectors = (phase == Phase::Erase).then_some(SectorProgress {
                    index: 0,
                    k: 0,
                    n: total as usize,
                });
                call_progress(progress, user, phase, 0, total, 0, sectors)
            }
            Event::Progress {
                phase,
                done,
                total,
                address,
                sector,
            } => call_progress(progress, user, phase, done, total, address, sector),
            Event::Log { level, message } => {
                if let Some(cb) = log {
                    let c = CString::new(message.replace('\0', " ")).unwrap_or_default();
                    cb(user, level_code(level), c.as_ptr());
                }
                Flow::Continue
            }
            Event::Workaround { address } => {
                if let Some(cb) = log {
                    let c = CString::new(format!(
                        "STM32H7 Rev V erase recovery fired for sector {address:#010x}"
                    ))
                    .unwrap_or_default();
                    cb(user, DFUFLASH_LOG_WARN, c.as_ptr());
                }
                Flow::Continue
            }
        }
    }
}
