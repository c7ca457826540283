//! DfuSe memory layouts: the alt setting's interface string.
//!
//! `@name/0xADDR/N*SIZE<mult><type>[,...][/0xADDR/...]`, where mult is `B` or a space (bytes),
//! `K` or `M`, and type is a letter `a`..`g` whose value minus `'a' - 1` is a bit mask:
//! bit0 readable, bit1 erasable, bit2 writable.
//!
//! ```
//! use dfuflash::layout::Layout;
//!
//! let l = Layout::parse("@Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg").unwrap();
//! assert_eq!(l.name, "Internal Flash");
//! let s = l.sector_at(0x0801_0004).unwrap();
//! assert_eq!((s.index, s.address, s.size), (4, 0x0801_0000, 64 * 1024));
//! assert!(s.perms.erasable() && s.perms.writable());
//! assert!(l.sector_at(0x0810_0000).is_none());
//! assert_eq!(l.sector_count(), 12);
//!
//! // Two groups that claim the same addresses: the device would erase another sector than
//! // the one the host means, so the layout is refused.
//! let err = Layout::parse("@Flash/0x08000000/2*1Kg/0x08000400/1*4Kg").unwrap_err();
//! assert!(err.to_string().contains("0x08000400"));
//! ```
//!
//! # Trust
//!
//! The string comes from the device, so it is untrusted input. Every layout is checked when
//! it is parsed: each group ends at or below 4 GiB, no two groups overlap, a sector holds at
//! most [`MAX_SECTOR_SIZE`] bytes and a layout at most [`MAX_SECTORS`] sectors. Nothing here
//! allocates or loops by a sector count or size: sectors are computed from their run when asked
//! for, so a layout costs what its text costs.

use std::fmt;

mod error;
mod parse;
#[cfg(test)]
mod tests;

pub use error::LayoutError;

/// Read/erase/write permissions of a run of sectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Perms(pub u8);

impl Perms {
    /// Readable (UPLOAD works).
    pub fn readable(self) -> bool {
        self.0 & 1 != 0
    }
    /// Erasable (the 0x41 page erase works).
    pub fn erasable(self) -> bool {
        self.0 & 2 != 0
    }
    /// Writable (DNLOAD works).
    pub fn writable(self) -> bool {
        self.0 & 4 != 0
    }
    /// The type letter of the layout string.
    pub fn letter(self) -> char {
        match self.0 {
            1..=7 => (b'a' + self.0 - 1) as char,
            _ => '?',
        }
    }
}

impl fmt::Display for Perms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let flag = |on: bool, c: char| if on { c } else { '-' };
        write!(
            f,
            "{}{}{}",
            flag(self.readable(), 'r'),
            flag(self.erasable(), 'e'),
            flag(self.writable(), 'w')
        )
    }
}

/// `count` sectors of `size` bytes with the same permissions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SectorRun {
    /// Number of sectors.
    pub count: u32,
    /// Size of each sector in bytes.
    pub size: u32,
    /// Their permissions.
    pub perms: Perms,
}

/// The most bytes one sector may hold. Real erase units are at most a few hundred KB; a
/// larger "sector" is a device's lie or a RAM region nobody erases by sector.
pub const MAX_SECTOR_SIZE: u32 = 256 << 20;

/// The most sectors one layout may describe (a 32 MB NOR flash in 4 KB sectors has 8192; the
/// largest STM32 layouts have 256).
pub const MAX_SECTORS: u64 = 1 << 20;

/// A contiguous address range made of sector runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// First address.
    pub start: u32,
    /// Sector runs in address order.
    pub runs: Vec<SectorRun>,
}

impl Group {
    /// One past the last address, as u64 so a group that ends at 4 GiB is representable.
    pub fn end(&self) -> u64 {
        self.runs
            .iter()
            .fold(self.start as u64, |a, r| a.saturating_add(r.bytes()))
    }
}

impl SectorRun {
    /// Bytes in the run.
    pub fn bytes(&self) -> u64 {
        self.count as u64 * self.size as u64
    }
}

/// One sector, found by address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sector {
    /// Index of the sector across the whole layout, counted from 0.
    pub index: usize,
    /// First address.
    pub address: u32,
    /// Size in bytes.
    pub size: u32,
    /// Permissions.
    pub perms: Perms,
}

impl Sector {
    /// One past the last address.
    pub fn end(&self) -> u64 {
        self.address as u64 + self.size as u64
    }
}

/// A parsed memory layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// The name with its padding removed (`Internal Flash`).
    pub name: String,
    /// Address groups in string order.
    pub groups: Vec<Group>,
    /// The string as the device sent it.
    pub source: String,
}

impl Layout {
    /// Every sector in string order, computed one at a time.
    pub fn sectors(&self) -> impl Iterator<Item = Sector> + '_ {
        self.groups
            .iter()
            .flat_map(|g| {
                // Each run with the address it starts at.
                g.runs.iter().scan(g.start as u64, |address, run| {
                    let start = *address;
                    *address += run.bytes();
                    Some((start, run))
                })
            })
            .flat_map(|(start, run)| {
                (0..run.count as u64).map(move |k| (start + k * run.size as u64, run))
            })
            .enumerate()
            .map(|(index, (address, run))| Sector {
                index,
                address: address as u32,
                size: run.size,
                perms: run.perms,
            })
    }

    /// How many sectors the layout describes.
    pub fn sector_count(&self) -> usize {
        let n: u64 = self
            .groups
            .iter()
            .flat_map(|g| &g.runs)
            .map(|r| r.count as u64)
            .sum();
        n as usize
    }

    /// The sector with this index (string order), found by arithmetic over the runs.
    pub fn sector(&self, index: usize) -> Option<Sector> {
        let mut first = 0usize;
        for g in &self.groups {
            let mut address = g.start as u64;
            for run in &g.runs {
                let count = run.count as usize;
                if index < first + count {
                    let k = (index - first) as u64;
                    return Some(Sector {
                        index,
                        address: (address + k * run.size as u64) as u32,
                        size: run.size,
                        perms: run.perms,
                    });
                }
                first += count;
                address += run.bytes();
            }
        }
        None
    }

    /// The sector that contains `address`, taken from the group and run that contain it.
    pub fn sector_at(&self, address: u32) -> Option<Sector> {
        let mut index = 0usize;
        for g in &self.groups {
            let mut start = g.start as u64;
            for run in &g.runs {
                let len = run.bytes();
                let a = address as u64;
                if a >= start && a < start.saturating_add(len) {
                    let k = (a - start) / run.size as u64;
                    return Some(Sector {
                        index: index.saturating_add(k as usize),
                        address: (start + k * run.size as u64) as u32,
                        size: run.size,
                        perms: run.perms,
                    });
                }
                start = start.saturating_add(len);
                index = index.saturating_add(run.count as usize);
            }
        }
        None
    }

    /// The address group (a contiguous memory segment) that contains `address`.
    pub fn group_at(&self, address: u32) -> Option<&Group> {
        self.groups
            .iter()
            .find(|g| (g.start as u64..g.end()).contains(&(address as u64)))
    }

    /// Total bytes described.
    pub fn total_size(&self) -> u64 {
        self.groups.iter().map(|g| g.end() - g.start as u64).sum()
    }
}

impl fmt::Display for Layout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}
