//! Progress events, the observer that receives them, and the cancel token.
//!
//! ```
//! use dfuflash::progress::{CancelToken, Event, Flow, Phase};
//!
//! let token = CancelToken::new();
//! let t2 = token.clone();
//! let mut seen = 0;
//! let mut observer = |ev: &Event| {
//!     if let Event::Progress { phase: Phase::Write, done, .. } = ev {
//!         seen += 1;
//!         if *done >= 4096 { t2.cancel(); }
//!     }
//!     Flow::Continue
//! };
//! dfuflash::progress::Observer::on_event(&mut observer, &Event::Progress {
//!     phase: Phase::Write, done: 4096, total: 8192, address: 0x0800_1000, sector: None,
//! });
//! assert!(token.is_cancelled());
//! ```

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// The phases of a job, in the order a flash job runs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Phase {
    /// Reading the planned sectors to find those that already hold what the flash would leave
    /// (progress counts bytes of the sectors compared).
    Compare,
    /// Erasing sectors (progress counts sectors) or a mass erase.
    Erase,
    /// Writing (progress counts bytes).
    Write,
    /// Reading back and comparing (progress counts bytes).
    Verify,
    /// Reading memory into a buffer (progress counts bytes).
    Read,
    /// Leaving DFU mode.
    Leave,
    /// Writing the boot block last, then reading it back (progress counts its bytes twice:
    /// written, then read).
    Boot,
}

impl Phase {
    /// Lowercase name.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Compare => "compare",
            Phase::Erase => "erase",
            Phase::Write => "write",
            Phase::Verify => "verify",
            Phase::Read => "read",
            Phase::Leave => "leave",
            Phase::Boot => "boot",
        }
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Log level of a log event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Request-level detail.
    Debug,
    /// What happened.
    Info,
    /// Something the user should know (a workaround fired).
    Warn,
    /// Something failed.
    Error,
}

impl Level {
    /// Lowercase name.
    pub fn name(self) -> &'static str {
        match self {
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }
}

/// What a job tells its observer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event<'a> {
    /// A phase begins; `total` is sectors for erase, bytes otherwise (1 for a mass erase).
    PhaseStart {
        /// The phase.
        phase: Phase,
        /// Units of work in it.
        total: u64,
    },
    /// Work done in a phase.
    Progress {
        /// The phase.
        phase: Phase,
        /// Units done so far.
        done: u64,
        /// Units in the phase.
        total: u64,
        /// Address of the sector or block just finished.
        address: u32,
        /// For erase: (index of the sector in the layout, position k of n in this job, from 1).
        sector: Option<SectorProgress>,
    },
    /// The STM32H7 Rev V recovery fired for the sector at this address.
    Workaround {
        /// Sector address.
        address: u32,
    },
    /// A log line.
    Log {
        /// Level.
        level: Level,
        /// Text.
        message: &'a str,
    },
}

/// Where an erase stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SectorProgress {
    /// The sector's index in the device's layout.
    pub index: usize,
    /// This is sector `k` of `n` erased by the job, counting from 1.
    pub k: usize,
    /// Sectors the job erases.
    pub n: usize,
}

/// Whether the job should go on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Go on.
    Continue,
    /// Stop at the next point between transfers.
    Cancel,
}

/// Receives events; runs on the job's thread, between transfers.
pub trait Observer {
    /// One event.
    fn on_event(&mut self, event: &Event<'_>) -> Flow;
}

impl<F: FnMut(&Event<'_>) -> Flow> Observer for F {
    fn on_event(&mut self, event: &Event<'_>) -> Flow {
        self(event)
    }
}

/// An observer that ignores everything.
pub struct Silent;

impl Observer for Silent {
    fn on_event(&mut self, _: &Event<'_>) -> Flow {
        Flow::Continue
    }
}

/// A cancel flag shared between threads. Cancelling takes effect at the job's next point
/// between transfers; the job then returns the device to dfuIDLE and fails with `Cancelled`.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    /// A token not yet cancelled.
    pub fn new() -> Self {
        Self::default()
    }
    /// Requests cancellation; callable from any thread.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
    /// Whether cancellation was requested.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
    /// Clears a request, so the token can serve the next job.
    pub fn reset(&self) {
        self.0.store(false, Ordering::SeqCst);
    }
}
