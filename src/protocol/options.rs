//! The engine's settings: the limit of every wait, and whether device workarounds apply.

use std::time::Duration;

/// Every wait the engine makes has one of these limits.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Timeouts {
    /// USB timeout of every control transfer but GETSTATUS.
    pub control: Duration,
    /// USB timeout of GETSTATUS. ST ROMs erase a sector inside the first GETSTATUS after the
    /// command (about 0.9 s on an H7, up to 2 s for a 128 KB F4 sector at the datasheet's
    /// maximum), so this must be longer than one sector erase.
    pub status: Duration,
    /// Deadline from a Set Address or a data block to dfuDNLOAD-IDLE (but the first block of a
    /// DFU 1.1 download: see `mass_erase`).
    pub command: Duration,
    /// Deadline from a page erase command to dfuDNLOAD-IDLE.
    pub erase: Duration,
    /// Deadline for a mass erase (an STM32F405 reports 100 ms and takes about 30 s), and for
    /// the first block of a DFU 1.1 download, which may wait for the whole firmware area's
    /// erase.
    pub mass_erase: Duration,
    /// Deadline for DFU 1.1 manifestation.
    pub manifest: Duration,
    /// The least time an erase must have been stuck in OK/dfuDNBUSY before the Rev V recovery
    /// is sent; the engine also waits at least twice the poll timeout the device reported.
    pub wedge_wait: Duration,
    /// How many stalled GETSTATUS requests in a row are retried at a fine step (STM32L4 stalls
    /// GETSTATUS polled during a page erase); after that every 100 ms, until the wait's
    /// deadline.
    pub max_status_stalls: u32,
    /// Deadline of a job as a whole (a flash, erase, read or leave). None: a default from
    /// the work the job plans (see [`crate::job`]'s deadline table).
    pub job: Option<Duration>,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            control: Duration::from_secs(5),
            status: Duration::from_secs(10),
            command: Duration::from_secs(5),
            erase: Duration::from_secs(20),
            mass_erase: Duration::from_secs(120),
            manifest: Duration::from_secs(30),
            wedge_wait: Duration::from_secs(2),
            max_status_stalls: 100,
            job: None,
        }
    }
}

/// Engine settings.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct EngineOptions {
    /// Limits of every wait.
    pub timeouts: Timeouts,
    /// Device workarounds (today one: the STM32H7 Rev V erase recovery). On by default.
    pub workarounds: bool,
}

impl Default for EngineOptions {
    fn default() -> Self {
        Self {
            timeouts: Timeouts::default(),
            workarounds: true,
        }
    }
}
