//! How long a job may take as a whole when the caller gives no deadline: the work it plans,
//! priced at the slowest timing any source gives, with margin. The deadline exists because a
//! device decides how long the host waits: one that asks for a 4.9 s pause after every block
//! would make a 1.75 MB flash take 2.5 hours while every single wait stays within its limit.
//!
//! | work | allowance | source |
//! |---|---|---|
//! | every job | 30 s | opening, the return to dfuIDLE, leaving (assumption, generous) |
//! | each sector erased | 0.1 s + 4 s per 128 KB | STM32H7 128 KB sector: 2.2 s at most at x32 parallelism (DS12110, quoted by ST staff), about 4 s at x8 (Chromium EC's H7 driver): the slowest erase rate of the timing table's sources |
//! | each sector of 128 KB or more erased on a DfuSe device with workarounds on | + 2 s | the Rev V recovery (of the H7's 128 KB sectors) waits at least 2 s before its CLRSTATUS pair (PROTOCOL.md, section 4) |
//! | each Rev V recovery, on a sector of any size | + what its erase waited, added when it fires (up to 1 hour in all) | a device may wedge on sectors of any size; the wait is max(2 s, 2 × its poll timeout), within the erase limit, which the 30 s above covers until the recovery fires |
//! | a mass erase | + the mass erase limit (120 s) | an STM32F405 takes about 30 s (PROTOCOL.md, section 2) |
//! | each block written | 30 ms + 10.5 us per byte | STM32L4 64-bit program, 81.69 us (DS10198): the slowest program rate of the table; three control transfers of about 1 ms |
//! | each block read | 10 ms | one UPLOAD of at most 4 KB: about 5 ms at full speed |
//! | blocks | counted as at least 64 bytes each | the smallest wTransferSize a full-speed device's ep0 makes sense of: the number is the device's |
//! | in all | at most 1 hour | the sizes priced are the device's to report; a longer job needs the caller's own deadline |
//! | DFU 1.1 manifestation | + the manifestation limit (30 s) | |
//! | DFU 1.1, the first block | + the mass erase limit (120 s) | Zephyr's DFU class erases the whole slot before writing the first block (subsys/usb/device/class/dfu/usb_dfu.c) |
//!
//! Compare and verify read every planned sector at most twice. For the OpenMV H7 firmware
//! (1.75 MB in 14 sectors of 128 KB, 1 KB blocks) this gives about 224 s: inside the 300 s
//! after which OpenMV IDE kills its flasher, and far above the 32 s the job takes.

use std::time::Duration;

use crate::plan::FlashPlan;
use crate::protocol::Dfu;
use crate::transport::Transport;

const FIXED: Duration = Duration::from_secs(30);
const PER_SECTOR: Duration = Duration::from_millis(100);
/// Erase time per byte: 4 s per 128 KB.
const ERASE_NS_PER_BYTE: u64 = 4_000_000_000 / (128 * 1024);
const RECOVERY: Duration = Duration::from_secs(2);
const PER_BLOCK_WRITTEN: Duration = Duration::from_millis(30);
const PROGRAM_NS_PER_BYTE: u64 = 10_500;
const PER_BLOCK_READ: Duration = Duration::from_millis(10);
/// Blocks are priced as at least this long, whatever wTransferSize the device reports.
const LEAST_BLOCK: u64 = 64;
/// The sector size the Rev V recovery is for (the STM32H7's).
const RECOVERED_SECTOR: u64 = 128 * 1024;
/// No default is longer, whatever sizes the device reports.
const MOST: Duration = Duration::from_secs(3600);

/// The job's deadline: the caller's, or the default for this work.
pub(super) fn or_default<T: Transport>(dfu: &Dfu<T>, default: impl FnOnce() -> Work) -> Duration {
    dfu.options()
        .timeouts
        .job
        .unwrap_or_else(|| default().allowance(dfu))
}

/// The work a job plans, counted the way the allowances are priced.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Work {
    /// Sectors erased, those of them large enough for the Rev V recovery, and their bytes.
    pub(super) sectors: u64,
    pub(super) large_sectors: u64,
    pub(super) sector_bytes: u64,
    /// Bytes written and read.
    pub(super) written: u64,
    pub(super) read: u64,
    pub(super) mass_erase: bool,
    pub(super) manifest: bool,
}

impl Work {
    /// A DfuSe flash: compare and verify read each planned sector at most twice.
    pub(super) fn flash(plan: &FlashPlan) -> Self {
        let sectors = plan.targets.iter().flat_map(|t| &t.erase);
        let sector_bytes: u64 = sectors.clone().map(|s| s.size as u64).sum();
        Work {
            sectors: sectors.clone().count() as u64,
            large_sectors: large(sectors),
            sector_bytes,
            written: plan.write_bytes(),
            read: 2 * sector_bytes.max(plan.image_bytes()),
            mass_erase: plan.mass_erase,
            manifest: false,
        }
    }

    /// A plain DFU 1.1 flash: the firmware area erased, the image written, read back, and
    /// manifested.
    pub(super) fn dfu11(bytes: u64) -> Self {
        Work {
            written: bytes,
            read: bytes,
            // The first block may wait for the whole firmware area's erase.
            mass_erase: true,
            manifest: true,
            ..Work::default()
        }
    }

    /// An erase of these sectors, each read back if the Rev V recovery erased it.
    pub(super) fn erase(sectors: &[crate::layout::Sector]) -> Self {
        let sector_bytes = sectors.iter().map(|s| s.size as u64).sum();
        Work {
            sectors: sectors.len() as u64,
            large_sectors: large(sectors.iter()),
            sector_bytes,
            read: sector_bytes,
            ..Work::default()
        }
    }

    /// A read of `bytes`.
    pub(super) fn read(bytes: u64) -> Self {
        Work {
            read: bytes,
            ..Work::default()
        }
    }

    /// A mass erase (or read unprotect, which mass-erases).
    pub(super) fn mass_erase() -> Self {
        Work {
            mass_erase: true,
            ..Work::default()
        }
    }

    fn allowance<T: Transport>(&self, dfu: &Dfu<T>) -> Duration {
        let t = &dfu.options().timeouts;
        let block = (dfu.transfer_size() as u64).max(LEAST_BLOCK);
        let recovery = if dfu.is_dfuse() && dfu.options().workarounds {
            RECOVERY
        } else {
            Duration::ZERO
        };
        let blocks = |bytes: u64| bytes.div_ceil(block).min(u32::MAX as u64) as u32;
        let mut d = FIXED
            + PER_SECTOR * self.sectors.min(u32::MAX as u64) as u32
            + recovery * self.large_sectors.min(u32::MAX as u64) as u32
            + Duration::from_nanos(self.sector_bytes.saturating_mul(ERASE_NS_PER_BYTE))
            + PER_BLOCK_WRITTEN * blocks(self.written)
            + Duration::from_nanos(self.written.saturating_mul(PROGRAM_NS_PER_BYTE))
            + PER_BLOCK_READ * blocks(self.read);
        if self.mass_erase {
            d += t.mass_erase;
        }
        if self.manifest {
            d += t.manifest;
        }
        d.min(MOST)
    }
}

/// How many of these sectors are as large as the STM32H7's, which the Rev V recovery is for.
fn large<'a>(sectors: impl Iterator<Item = &'a crate::layout::Sector>) -> u64 {
    sectors
        .filter(|s| s.size as u64 >= RECOVERED_SECTOR)
        .count() as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::Image;
    use crate::protocol::EngineOptions;
    use crate::sim::SimDevice;

    #[test]
    fn the_openmv_firmware_gets_about_224_s_and_a_caller_s_deadline_wins() {
        let mut dfu = Dfu::open(
            SimDevice::new("stm32h743-revv").unwrap(),
            0,
            EngineOptions::default(),
        )
        .unwrap();
        let image = Image::from_binary(0x0804_0000, vec![0; 1792 * 1024]).unwrap();
        let plan = crate::job::plan_for(&dfu, &image, &Default::default()).unwrap();
        let d = or_default(&dfu, || Work::flash(&plan));
        assert!((220..230).contains(&d.as_secs()), "{d:?}");
        let mut o = dfu.options().clone();
        o.timeouts.job = Some(Duration::from_secs(7));
        dfu.set_options(o);
        assert_eq!(or_default(&dfu, || unreachable!()), Duration::from_secs(7));
    }

    #[test]
    fn sizes_a_device_reports_cannot_make_the_default_longer_than_an_hour() {
        // Five bytes per block (the least a DfuSe command needs) and a 64 MB sector: once
        // priced at some 15 days.
        let dev =
            SimDevice::custom("stm32f405", 5, &["@Internal Flash /0x08000000/01*064Mg"]).unwrap();
        let dfu = Dfu::open(dev, 0, EngineOptions::default()).unwrap();
        let image = Image::from_binary(0x0800_0000, vec![0; 16]).unwrap();
        let plan = crate::job::plan_for(&dfu, &image, &Default::default()).unwrap();
        assert_eq!(or_default(&dfu, || Work::flash(&plan)), MOST);
        // A 16-byte image on a sane device is priced in seconds.
        let dev = SimDevice::new("stm32f405").unwrap();
        let dfu = Dfu::open(dev, 0, EngineOptions::default()).unwrap();
        let plan = crate::job::plan_for(&dfu, &image, &Default::default()).unwrap();
        let d = or_default(&dfu, || Work::flash(&plan));
        assert!(d < Duration::from_secs(40), "{d:?}");
    }
}
