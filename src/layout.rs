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

/// A layout string that does not follow the DfuSe grammar, or describes memory no device has.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LayoutError {
    /// The string does not start with `@`.
    #[error("memory layout {source_text:?} does not start with '@' (not a DfuSe alt setting)")]
    NotDfuse {
        /// The whole string.
        source_text: String,
    },
    /// A part of the string is not what the grammar allows at that place.
    #[error("memory layout {source_text:?}: {what} at byte {offset}")]
    Syntax {
        /// The whole string.
        source_text: String,
        /// Byte offset of the offending part.
        offset: usize,
        /// What was expected.
        what: &'static str,
    },
    /// The sectors of a group run past the end of the 32-bit address space.
    #[error("memory layout {source_text:?}: group at {start:#010x} ends past 4 GiB")]
    Overflow {
        /// The whole string.
        source_text: String,
        /// The group's first address.
        start: u32,
    },
    /// Two address groups claim the same addresses: a sector erased by its address would be
    /// another one on the device.
    #[error("memory layout {source_text:?}: groups {first} and {second} overlap")]
    Overlap {
        /// The whole string.
        source_text: String,
        /// The first group, as the string gives it.
        first: String,
        /// The group that overlaps it.
        second: String,
    },
    /// A sector size or the number of sectors is beyond what any device has.
    #[error("memory layout {source_text:?}: {what}")]
    Limit {
        /// The whole string.
        source_text: String,
        /// Which limit, with the numbers.
        what: String,
    },
}

impl Layout {
    /// Parses a DfuSe memory layout string and checks it (see the module's trust rule).
    pub fn parse(text: &str) -> Result<Self, LayoutError> {
        let source_text = text.to_string();
        let syntax = |offset: usize, what: &'static str| LayoutError::Syntax {
            source_text: source_text.clone(),
            offset,
            what,
        };
        let body = text
            .strip_prefix('@')
            .ok_or_else(|| LayoutError::NotDfuse {
                source_text: source_text.clone(),
            })?
            .trim_end_matches(['\0', ' ', '\r', '\n']);
        let mut parts = body.split('/');
        let raw_name = parts.next().unwrap_or("");
        let name = raw_name.trim().to_string();
        let mut offset = 1 + raw_name.len();
        let mut groups = Vec::new();
        let mut rest: Vec<&str> = parts.collect();
        // Skip a final empty part left by a trailing '/'.
        if rest.last() == Some(&"") {
            rest.pop();
        }
        if rest.is_empty() {
            return Err(syntax(text.len(), "expected '/0xADDR/' after the name"));
        }
        if rest.len() % 2 != 0 {
            return Err(syntax(
                text.len(),
                "expected sector runs after the last address",
            ));
        }
        let mut sectors = 0u64;
        let mut texts = Vec::new();
        for pair in rest.chunks(2) {
            let (addr_text, runs_text) = (pair[0], pair[1]);
            offset += 1; // the '/'
            let start = parse_address(addr_text.trim())
                .ok_or_else(|| syntax(offset, "expected a hexadecimal address like 0x08000000"))?;
            offset += addr_text.len() + 1;
            let mut runs = Vec::new();
            let mut run_offset = offset;
            let mut end = start as u64;
            for run_text in runs_text.split(',') {
                let run = parse_run(run_text).map_err(|(o, what)| syntax(run_offset + o, what))?;
                if run.size > MAX_SECTOR_SIZE {
                    return Err(LayoutError::Limit {
                        source_text,
                        what: format!(
                            "sectors of {} bytes at byte {run_offset}; the most is {MAX_SECTOR_SIZE}",
                            run.size
                        ),
                    });
                }
                sectors += run.count as u64;
                if sectors > MAX_SECTORS {
                    return Err(LayoutError::Limit {
                        source_text,
                        what: format!("{sectors} or more sectors; the most is {MAX_SECTORS}"),
                    });
                }
                // Count and size are both below 2^32, so neither the product nor the sum wraps.
                end += run.bytes();
                if end > 1 << 32 {
                    return Err(LayoutError::Overflow { source_text, start });
                }
                runs.push(run);
                run_offset += run_text.len() + 1;
            }
            offset += runs_text.len();
            groups.push(Group { start, runs });
            texts.push(format!("{}/{}", addr_text.trim(), runs_text.trim()));
        }
        check_overlaps(&groups, &texts, &source_text)?;
        Ok(Self {
            name,
            groups,
            source: text.to_string(),
        })
    }

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

/// Refuses two groups that share an address, naming both as the string gives them.
fn check_overlaps(
    groups: &[Group],
    texts: &[String],
    source_text: &str,
) -> Result<(), LayoutError> {
    let mut by_start: Vec<usize> = (0..groups.len())
        .filter(|&i| groups[i].end() > groups[i].start as u64)
        .collect();
    by_start.sort_by_key(|&i| groups[i].start);
    let describe = |i: usize| {
        let g = &groups[i];
        format!("{:?} ({:#010x}..{:#010x})", texts[i], g.start, g.end())
    };
    for pair in by_start.windows(2) {
        if groups[pair[0]].end() > groups[pair[1]].start as u64 {
            return Err(LayoutError::Overlap {
                source_text: source_text.to_string(),
                first: describe(pair[0]),
                second: describe(pair[1]),
            });
        }
    }
    Ok(())
}

impl fmt::Display for Layout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

fn parse_address(text: &str) -> Option<u32> {
    let hex = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))?;
    if hex.is_empty() || hex.len() > 8 {
        return None;
    }
    u32::from_str_radix(hex, 16).ok()
}

/// `N*SIZE<mult><type>`; errors carry an offset into `text`.
fn parse_run(text: &str) -> Result<SectorRun, (usize, &'static str)> {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() && b[i] == b' ' {
        i += 1;
    }
    let count_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let count: u32 = text[count_start..i]
        .parse()
        .map_err(|_| (count_start, "expected a sector count"))?;
    if b.get(i) != Some(&b'*') {
        return Err((i, "expected '*' after the sector count"));
    }
    i += 1;
    let size_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let size: u32 = text[size_start..i]
        .parse()
        .map_err(|_| (size_start, "expected a sector size"))?;
    let mult: u32 = match b.get(i) {
        Some(b'K') => 1024,
        Some(b'M') => 1024 * 1024,
        Some(b'B') | Some(b' ') => 1,
        _ => 0,
    };
    if mult != 0 {
        i += 1;
    } else {
        // The multiplier is sometimes left out entirely ("01*004e").
    }
    let mult = mult.max(1);
    let perms = match b.get(i) {
        Some(c @ b'a'..=b'g') => Perms(c - b'a' + 1),
        _ => return Err((i, "expected a memory type letter a..g")),
    };
    i += 1;
    if text[i..].trim().is_empty() {
        let size = size
            .checked_mul(mult)
            .filter(|s| *s > 0)
            .ok_or((size_start, "sector size is zero or too large"))?;
        // A run of no sectors is a label, not an error: Arduino's Portenta bootloader publishes
        // its version as "@MCUboot        v.25   /0x00000000/0*4Kg".
        Ok(SectorRun { count, size, perms })
    } else {
        Err((i, "unexpected text after the memory type"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_real_string_from_the_protocol_notes() {
        let cases: &[(&str, &str, u32, u64, usize)] = &[
            (
                "@Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg",
                "Internal Flash",
                0x0800_0000,
                1024 * 1024,
                12,
            ),
            (
                "@Option Bytes  /0x1FFFC000/01*016 g",
                "Option Bytes",
                0x1fff_c000,
                16,
                1,
            ),
            (
                "@OTP Memory /0x1FFF7800/01*512 g,01*016 g",
                "OTP Memory",
                0x1fff_7800,
                528,
                2,
            ),
            (
                "@Device Feature/0xFFFF0000/01*004 g",
                "Device Feature",
                0xffff_0000,
                4,
                1,
            ),
            (
                "@Internal Flash   /0x08000000/16*128Kg",
                "Internal Flash",
                0x0800_0000,
                2 * 1024 * 1024,
                16,
            ),
            (
                "@Option Bytes   /0x5200201C/01*128 e",
                "Option Bytes",
                0x5200_201c,
                128,
                1,
            ),
            (
                "@OTP Memory   /0x08FFF000/01*1024 e",
                "OTP Memory",
                0x08ff_f000,
                1024,
                1,
            ),
            (
                "@Internal Flash   /0x08000000/256*08Kg",
                "Internal Flash",
                0x0800_0000,
                2 * 1024 * 1024,
                256,
            ),
            (
                "@Internal Flash   /0x08000000/256*02Kg",
                "Internal Flash",
                0x0800_0000,
                512 * 1024,
                256,
            ),
            (
                "@Internal Flash /0x08000000/04*032Kg,01*128Kg,03*256Kg",
                "Internal Flash",
                0x0800_0000,
                1024 * 1024,
                8,
            ),
        ];
        for (text, name, start, size, sectors) in cases {
            let l = Layout::parse(text).unwrap();
            assert_eq!(&l.name, name, "{text}");
            assert_eq!(l.groups[0].start, *start, "{text}");
            assert_eq!(l.total_size(), *size, "{text}");
            assert_eq!(l.sectors().count(), *sectors, "{text}");
        }
    }

    #[test]
    fn several_address_groups_keep_their_own_addresses_and_sector_sizes() {
        let l = Layout::parse("@Flash /0x90000000/64*4Kg/0x90040000/60*64Kg/0x90400000/60*64Kg")
            .unwrap();
        assert_eq!(l.groups.len(), 3);
        let s = l.sector_at(0x9004_1234).unwrap();
        assert_eq!((s.index, s.address, s.size), (64, 0x9004_0000, 64 * 1024));
        let s = l.sector_at(0x9040_0000).unwrap();
        assert_eq!((s.index, s.address), (124, 0x9040_0000));
        assert_eq!(l.sector_at(0x903f_ffff).unwrap().index, 123);
        assert!(l.sector_at(0x907c_0000).is_none());
        let g = Layout::parse("@Option Bytes   /0x1FFF7800/01*048 e/0x1FFFF800/01*048 e").unwrap();
        assert_eq!(g.groups[1].start, 0x1fff_f800);
        assert!(!g.sector_at(0x1fff_f800).unwrap().perms.erasable());
        assert!(g.sector_at(0x1fff_f800).unwrap().perms.writable());
    }

    #[test]
    fn sector_lookup_follows_mixed_sizes_at_their_boundaries() {
        let l = Layout::parse("@Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg").unwrap();
        let at = |a| l.sector_at(a).map(|s| (s.index, s.address));
        assert_eq!(at(0x0800_0000), Some((0, 0x0800_0000)));
        assert_eq!(at(0x0800_ffff), Some((3, 0x0800_c000)));
        assert_eq!(at(0x0801_0000), Some((4, 0x0801_0000)));
        assert_eq!(at(0x0802_0000), Some((5, 0x0802_0000)));
        assert_eq!(at(0x080f_ffff), Some((11, 0x080e_0000)));
        assert_eq!(at(0x0810_0000), None);
        assert_eq!(at(0x07ff_ffff), None);
        assert_eq!(l.sectors().nth(11).unwrap().address, 0x080e_0000);
    }

    #[test]
    fn malformed_strings_name_the_offending_byte() {
        let err = |t: &str| Layout::parse(t).unwrap_err().to_string();
        assert!(err("Internal Flash").contains("does not start with '@'"));
        assert!(err("@Flash /0x0800000G/04*016Kg").contains("hexadecimal address"));
        assert!(
            err("@Flash /0x08000000/04x016Kg").contains("expected '*'"),
            "{}",
            err("@Flash /0x08000000/04x016Kg")
        );
        assert!(
            err("@Flash /0x08000000/04*016Kz").contains("memory type letter a..g at byte 26"),
            "{}",
            err("@Flash /0x08000000/04*016Kz")
        );
        let label = Layout::parse("@MCUboot        v.25   /0x00000000/0*4Kg").unwrap();
        assert_eq!(
            (label.name.as_str(), label.sectors().count()),
            ("MCUboot        v.25", 0)
        );
        assert_eq!(label.sector_at(0), None);
        assert!(err("@Flash /0xFFFF0000/02*064Kg").contains("past 4 GiB"));
        assert!(err("@Flash").contains("expected '/0xADDR/'"));
        assert!(err("@Flash /0x08000000").contains("expected sector runs"));
    }

    #[test]
    fn overlapping_groups_are_refused_naming_both() {
        let e = Layout::parse("@Flash/0x08000000/2*1Kg/0x08000400/1*4Kg").unwrap_err();
        let text = e.to_string();
        assert!(matches!(e, LayoutError::Overlap { .. }), "{text}");
        assert!(
            text.contains(
                "groups \"0x08000000/2*1Kg\" (0x08000000..0x08000800) and \"0x08000400/1*4Kg\" (0x08000400..0x08001400) overlap"
            ),
            "{text}"
        );
        // Listed out of order, the overlap is still found (an Overlap naming the lower group
        // first, as in order); groups that only touch are fine.
        let e = Layout::parse("@F/0x08001000/1*4Kg/0x08000000/2*4Kg");
        assert!(
            matches!(&e, Err(LayoutError::Overlap { first, second, .. })
                if first.starts_with("\"0x08000000/2*4Kg\"")
                    && second.starts_with("\"0x08001000/1*4Kg\"")),
            "{e:?}"
        );
        assert!(Layout::parse("@F/0x08002000/1*4Kg/0x08000000/2*4Kg").is_ok());
        // A group of no sectors (a label) overlaps nothing.
        assert!(Layout::parse("@F/0x08000000/2*4Kg/0x08000000/0*4Kg").is_ok());
    }

    #[test]
    fn device_sized_numbers_are_bounded_when_parsed() {
        let err = |t: &str| Layout::parse(t).unwrap_err().to_string();
        // 4 G sectors of one byte: fits below 4 GiB but no device has that many sectors.
        assert!(err("@F/0x0/4294967295*1Bg").contains("the most is 1048576"));
        // Products and sums that would wrap in 64 bits.
        assert!(err("@x/0x0/4294967295*4294967295Bg,2*4294967295Bg,1*2Bg")
            .contains("sectors of 4294967295 bytes"));
        assert!(err("@x/0x0/1*4095Mg").contains("the most is 268435456"));
        assert!(err("@x/0x0/4096*256Mg").contains("ends past 4 GiB"));
        // Memory that ends exactly at 4 GiB is allowed and its last sector found.
        let top = Layout::parse("@X/0xFFFFF000/1*4Kg").unwrap();
        assert_eq!(top.groups[0].end(), 1 << 32);
        assert_eq!(top.sector_at(0xffff_ffff).unwrap().address, 0xffff_f000);
        assert!(err("@X/0xFFFFF000/1*4Kg,1*1Bg").contains("ends past 4 GiB"));
    }

    #[test]
    fn sectors_are_computed_not_stored() {
        let l = Layout::parse("@F/0x0/1048576*1Bg").unwrap();
        assert_eq!(l.sector_count(), 1 << 20);
        let s = l.sector((1 << 20) - 1).unwrap();
        assert_eq!((s.index, s.address, s.size), ((1 << 20) - 1, 0xf_ffff, 1));
        assert_eq!(l.sector(1 << 20), None);
        let f4 = Layout::parse("@Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg").unwrap();
        let all: Vec<_> = f4.sectors().collect();
        assert_eq!(all.len(), f4.sector_count());
        for (i, s) in all.iter().enumerate() {
            assert_eq!(f4.sector(i), Some(*s));
            assert_eq!(f4.sector_at(s.address), Some(*s));
        }
        let groups = Layout::parse("@F/0x90000000/2*4Kg,0*1Kg/0x10000000/1*1Ka").unwrap();
        let addrs: Vec<_> = groups.sectors().map(|s| (s.index, s.address)).collect();
        assert_eq!(
            addrs,
            [(0, 0x9000_0000), (1, 0x9000_1000), (2, 0x1000_0000)]
        );
    }

    #[test]
    fn type_letters_map_to_permission_bits() {
        let perms =
            |c: char| Layout::parse(&format!("@x/0x0/01*1K{c}")).unwrap().groups[0].runs[0].perms;
        assert_eq!(perms('a').to_string(), "r--");
        assert_eq!(perms('b').to_string(), "-e-");
        assert_eq!(perms('e').to_string(), "r-w");
        assert_eq!(perms('g').to_string(), "rew");
        assert_eq!(perms('g').letter(), 'g');
    }
}
