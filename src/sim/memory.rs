//! Simulated memory, one region per address group, and flash semantics: programming only
//! clears bits (on ECC flash, only into blank words), an erase cut short keeps what it did;
//! option bytes are replaced, as the ROM erases them itself.

use super::work::Work;
use super::SimDevice;
use crate::layout::Layout;
use crate::protocol::Status;

#[derive(Debug, Clone)]
pub(super) struct Region {
    pub(super) alt: u8,
    pub(super) layout: Layout,
    pub(super) start: u32,
    pub(super) data: Vec<u8>,
}

impl SimDevice {
    /// Memory of an alt setting; `None` if the range is not inside one address group.
    pub fn memory(&self, alt: u8, address: u32, len: usize) -> Option<&[u8]> {
        let r = self.regions.iter().find(|r| {
            r.alt == alt
                && address >= r.start
                && address as u64 + len as u64 <= r.start as u64 + r.data.len() as u64
        })?;
        let off = (address - r.start) as usize;
        Some(&r.data[off..off + len])
    }

    /// Overwrites memory directly (test setup: "a board that already holds firmware").
    pub fn poke(&mut self, alt: u8, address: u32, bytes: &[u8]) -> bool {
        match self.region_mut(alt, address, bytes.len()) {
            Some((r, off)) => {
                r.data[off..off + bytes.len()].copy_from_slice(bytes);
                true
            }
            None => false,
        }
    }

    /// The firmware a plain DFU 1.1 device holds after manifestation (its first slot).
    pub fn firmware(&self) -> &[u8] {
        self.firmware_of(0)
    }

    /// The firmware a plain DFU 1.1 device holds in the slot of this alt setting (empty for
    /// one it does not have).
    pub fn firmware_of(&self, alt: u8) -> &[u8] {
        match (
            self.regions.get(alt as usize),
            self.firmware_len.get(alt as usize),
        ) {
            (Some(r), Some(&n)) if self.model.dialect != super::models::Dialect::StRom => {
                &r.data[..n]
            }
            _ => &[],
        }
    }

    fn region_mut(&mut self, alt: u8, address: u32, len: usize) -> Option<(&mut Region, usize)> {
        let r = self.regions.iter_mut().find(|r| {
            r.alt == alt
                && address >= r.start
                && address as u64 + len as u64 <= r.start as u64 + r.data.len() as u64
        })?;
        let off = (address - r.start) as usize;
        Some((r, off))
    }

    /// Checks permissions over a range of the current alt setting.
    pub(super) fn check(
        &self,
        address: u32,
        len: usize,
        need: fn(crate::layout::Perms) -> bool,
    ) -> Result<(), Status> {
        let r = self
            .regions
            .iter()
            .find(|r| {
                r.alt == self.alt
                    && address >= r.start
                    && address as u64 + len as u64 <= r.start as u64 + r.data.len() as u64
            })
            .ok_or(Status::ErrTarget)?;
        let mut a = address as u64;
        let end = address as u64 + len.max(1) as u64;
        while a < end {
            let s = r.layout.sector_at(a as u32).ok_or(Status::ErrTarget)?;
            if !need(s.perms) {
                return Err(Status::ErrTarget);
            }
            a = s.end();
        }
        Ok(())
    }

    pub(super) fn program(&mut self, address: u32, data: &[u8], keep: usize) -> Result<(), Status> {
        let alt = self.alt;
        let ecc = self.model.quirks.ecc_word;
        let (r, off) = self
            .region_mut(alt, address, data.len())
            .ok_or(Status::ErrTarget)?;
        let mem = &mut r.data[off..off + data.len()];
        // The device knows its own option bytes by their name, as the ROM's alt string gives it.
        if r.layout.name.to_ascii_lowercase().contains("option") {
            // The ROM erases the option bytes before it writes new ones (AN3155, Write Memory).
            let n = keep.min(data.len());
            mem[..n].copy_from_slice(&data[..n]);
            return Ok(());
        }
        if let Some(w) = ecc {
            // Every flash word touched must be blank (the ROM programs whole words with ECC).
            let w = w as usize;
            let base = (address as usize) % w;
            let first = off - base.min(off);
            let words_end = (off + data.len()).div_ceil(w) * w;
            let region = &r.data[first..words_end.min(r.data.len())];
            if region.iter().any(|b| *b != 0xff) {
                return Err(Status::ErrProg);
            }
            let mem = &mut r.data[off..off + data.len()];
            for (m, d) in mem.iter_mut().zip(data).take(keep) {
                *m &= *d;
            }
            return Ok(());
        }
        if mem.iter().zip(data).any(|(m, d)| m & d != *d) {
            return Err(Status::ErrProg);
        }
        for (m, d) in mem.iter_mut().zip(data).take(keep) {
            *m &= *d;
        }
        Ok(())
    }

    pub(super) fn apply(&mut self, work: Work, fraction: f64) {
        match work {
            Work::Erase { alt, address, size } => {
                let n = ((size as f64) * fraction) as usize;
                if let Some((r, off)) = self.region_mut(alt, address, size as usize) {
                    r.data[off..off + n].fill(0xff);
                }
            }
            Work::MassErase | Work::Unprotect => {
                if fraction >= 1.0 {
                    for r in self.regions.iter_mut().filter(|r| r.alt == 0) {
                        r.data.fill(0xff);
                    }
                }
                if work == Work::Unprotect && fraction >= 1.0 {
                    self.read_protected = false;
                    self.disconnected = true;
                }
            }
            Work::Program | Work::Manifest => {}
        }
    }
}
