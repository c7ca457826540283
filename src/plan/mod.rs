//! From an image and the device's memory layouts, exactly what a flash job will do: the
//! sectors to erase (the sector that holds each written byte, taken from the layout group that
//! holds it) and the runs to write, padded with 0xFF to the device's write granularity. Every
//! refusal happens here, before any request reaches the device.
//!
//! ```
//! use dfuflash::image::Image;
//! use dfuflash::plan::{plan, PlanOptions};
//! use dfuflash::transport::AltSetting;
//!
//! let alts = [AltSetting { alt: 0, name: "@Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg".into() }];
//! let img = Image::from_binary(0x0800_3ffe, vec![0xaa; 4]).unwrap(); // straddles sectors 0 and 1
//! let mut opts = PlanOptions::default();
//! opts.write_granularity = 8;
//! let p = plan(&img, &alts, &opts).unwrap();
//! let t = &p.targets[0];
//! assert_eq!(t.erase.iter().map(|s| s.address).collect::<Vec<_>>(), [0x0800_0000, 0x0800_4000]);
//! assert_eq!((t.writes[0].address, t.writes[0].data.len()), (0x0800_3ff8, 16));
//!
//! let outside = Image::from_binary(0x0810_0000, vec![0; 4]).unwrap();
//! let err = plan(&outside, &alts, &PlanOptions::default()).unwrap_err();
//! assert!(err.to_string().starts_with("image touches 0x08100000, outside the memory of alt setting 0"));
//! ```

mod boot;
mod error;
mod narrow;
mod steps;

pub use boot::BootBlock;
pub use error::{Permission, PlanError};
pub use narrow::cut;

use crate::image::{Image, Segment};
use crate::layout::{Layout, Sector};
use crate::transport::AltSetting;

/// What an alt setting's memory is, from its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemoryKind {
    /// Program memory.
    Flash,
    /// Option bytes: writing them can reset the chip or lock it for good.
    OptionBytes,
    /// One-time programmable memory.
    Otp,
    /// ST's "Device Feature" area.
    DeviceFeature,
}

impl MemoryKind {
    /// Classifies a layout name.
    pub fn of(name: &str) -> Self {
        let n = name.to_ascii_lowercase();
        if n.contains("option") {
            MemoryKind::OptionBytes
        } else if n.contains("otp") {
            MemoryKind::Otp
        } else if n.contains("feature") {
            MemoryKind::DeviceFeature
        } else {
            MemoryKind::Flash
        }
    }

    fn describe(self) -> &'static str {
        match self {
            MemoryKind::Flash => "flash",
            MemoryKind::OptionBytes => "option bytes",
            MemoryKind::Otp => "OTP memory",
            MemoryKind::DeviceFeature => "device feature area",
        }
    }
}

/// The alt setting a DfuSe mass erase is sent on, and the memory it erases: the internal flash,
/// alt 0 on ST's ROMs (AN3156: the Erase command without an address erases the whole flash).
/// A target on any other alt setting keeps its sector erases.
pub const MASS_ERASED_ALT: u8 = 0;

/// Settings of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PlanOptions {
    /// Writes are padded with 0xFF to multiples of this many bytes, aligned to it.
    pub write_granularity: u32,
    /// One mass erase (of [`MASS_ERASED_ALT`]) instead of its sector erases.
    pub mass_erase: bool,
    /// The job reads back and compares: the memory must be readable.
    pub verify: bool,
    /// Writing option bytes is allowed.
    pub allow_option_bytes: bool,
    /// Writing OTP memory is allowed.
    pub allow_otp: bool,
}

impl Default for PlanOptions {
    fn default() -> Self {
        Self {
            write_granularity: 1,
            mass_erase: false,
            verify: true,
            allow_option_bytes: false,
            allow_otp: false,
        }
    }
}

/// What to do on one alt setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetPlan {
    /// The alt setting.
    pub alt: u8,
    /// Its layout.
    pub layout: Layout,
    /// Sectors to erase, in address order, each once.
    pub erase: Vec<Sector>,
    /// Sectors the plan touches that are left alone because they already hold what it would
    /// leave there (found by the differential flash; empty in a fresh plan).
    pub unchanged: Vec<Sector>,
    /// Contiguous padded runs to write, in address order.
    pub writes: Vec<Segment>,
    /// Bytes of the image itself (what verify compares).
    pub image_bytes: u64,
}

/// The whole job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlashPlan {
    /// Per alt setting, in image order.
    pub targets: Vec<TargetPlan>,
    /// One mass erase before writing.
    pub mass_erase: bool,
    /// The bytes the device programs at once: writes in flash are padded and aligned to it.
    pub write_granularity: u32,
}

impl FlashPlan {
    /// Sectors to erase, all targets.
    pub fn sectors(&self) -> usize {
        self.targets.iter().map(|t| t.erase.len()).sum()
    }
    /// Bytes sent, padding included.
    pub fn write_bytes(&self) -> u64 {
        self.targets
            .iter()
            .flat_map(|t| &t.writes)
            .map(|w| w.data.len() as u64)
            .sum()
    }
    /// Bytes of the image.
    pub fn image_bytes(&self) -> u64 {
        self.targets.iter().map(|t| t.image_bytes).sum()
    }
}

/// Plans an image for a DfuSe device whose alt settings are `alts`.
pub fn plan(
    image: &Image,
    alts: &[AltSetting],
    opts: &PlanOptions,
) -> Result<FlashPlan, PlanError> {
    let mut targets = Vec::new();
    for target in &image.targets {
        let alt =
            alts.iter()
                .find(|a| a.alt == target.alt)
                .ok_or_else(|| PlanError::NoSuchAlt {
                    alt: target.alt,
                    available: alts
                        .iter()
                        .map(|a| a.alt.to_string())
                        .collect::<Vec<_>>()
                        .join(", "),
                })?;
        let layout = Layout::parse(&alt.name).map_err(|e| PlanError::NoLayout {
            alt: alt.alt,
            name: alt.name.clone(),
            reason: e.to_string(),
        })?;
        targets.push(plan_target(alt.alt, layout, &target.segments, opts)?);
    }
    Ok(FlashPlan {
        targets,
        mass_erase: opts.mass_erase,
        write_granularity: opts.write_granularity.max(1),
    })
}

fn plan_target(
    alt: u8,
    layout: Layout,
    segments: &[Segment],
    opts: &PlanOptions,
) -> Result<TargetPlan, PlanError> {
    let kind = MemoryKind::of(&layout.name);
    let text = layout.source.clone();
    let first = segments.first().map(|s| s.address).unwrap_or(0);
    let protected = |how, allowed_by| PlanError::Protected {
        alt,
        kind: kind.describe(),
        address: first,
        layout: text.clone(),
        how,
        allowed_by,
    };
    match kind {
        MemoryKind::OptionBytes if !opts.allow_option_bytes => {
            return Err(protected(
                "set the allow-option-bytes option to write it",
                Some(Permission::OptionBytes),
            ))
        }
        MemoryKind::Otp if !opts.allow_otp => {
            return Err(protected(
                "set the allow-otp option to write it",
                Some(Permission::Otp),
            ))
        }
        MemoryKind::DeviceFeature => return Err(protected("dfuflash does not write it", None)),
        _ => {}
    }
    let erasing = kind == MemoryKind::Flash;

    // The image's own bytes first, so an error names an address the user wrote.
    for seg in segments {
        check_range(
            alt,
            &layout,
            seg.address as u64,
            seg.end(),
            erasing,
            opts.verify,
        )?;
    }

    // Padded runs: each segment aligned out to the granularity, overlapping runs merged. Only
    // erased flash is padded: 0xFF there changes nothing, while in option bytes or OTP it would
    // write bytes nobody asked for.
    let g = if erasing {
        opts.write_granularity.max(1) as u64
    } else {
        1
    };
    let mut ranges: Vec<(u64, u64)> = Vec::new();
    for seg in segments {
        let start = seg.address as u64 / g * g;
        let end = seg.end().div_ceil(g) * g;
        match ranges.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => ranges.push((start, end)),
        }
    }
    let mut writes = Vec::with_capacity(ranges.len());
    let mut erase: Vec<Sector> = Vec::new();
    for (start, end) in ranges {
        check_range(alt, &layout, start, end, erasing, false)?;
        let mut data = vec![0xffu8; (end - start) as usize];
        for seg in segments
            .iter()
            .filter(|s| (s.address as u64) < end && s.end() > start)
        {
            let off = (seg.address as u64 - start) as usize;
            data[off..off + seg.data.len()].copy_from_slice(&seg.data);
        }
        if erasing && !(opts.mass_erase && alt == MASS_ERASED_ALT) {
            let mut a = start;
            while a < end {
                let s = layout.sector_at(a as u32).expect("checked above");
                if erase.last().map(|l| l.address) != Some(s.address) {
                    erase.push(s);
                }
                a = s.end();
            }
        }
        writes.push(Segment::new(start as u32, data));
    }
    erase.sort_by_key(|s| s.address);
    erase.dedup_by_key(|s| s.address);
    Ok(TargetPlan {
        alt,
        layout,
        erase,
        unchanged: Vec::new(),
        writes,
        image_bytes: segments.iter().map(|s| s.data.len() as u64).sum(),
    })
}

fn check_range(
    alt: u8,
    layout: &Layout,
    start: u64,
    end: u64,
    erasing: bool,
    readable: bool,
) -> Result<(), PlanError> {
    let mut a = start;
    while a < end {
        let text = || layout.source.clone();
        let s = layout
            .sector_at(a as u32)
            .ok_or_else(|| PlanError::Absent {
                alt,
                address: a as u32,
                layout: text(),
            })?;
        if !s.perms.writable() {
            return Err(PlanError::NotWritable {
                alt,
                address: a as u32,
                layout: text(),
            });
        }
        if erasing && !s.perms.erasable() {
            return Err(PlanError::NotErasable {
                alt,
                address: a as u32,
                layout: text(),
            });
        }
        if readable && !s.perms.readable() {
            return Err(PlanError::NotReadable {
                alt,
                address: a as u32,
                layout: text(),
            });
        }
        a = s.end();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const H7: &str = "@Internal Flash   /0x08000000/16*128Kg";

    fn alts(names: &[&str]) -> Vec<AltSetting> {
        names
            .iter()
            .enumerate()
            .map(|(i, n)| AltSetting {
                alt: i as u8,
                name: n.to_string(),
            })
            .collect()
    }

    fn h7(g: u32) -> PlanOptions {
        PlanOptions {
            write_granularity: g,
            ..Default::default()
        }
    }

    #[test]
    fn full_openmv_image_erases_exactly_the_sectors_it_touches() {
        let img = Image::from_binary(0x0804_0000, vec![0x5a; 0x1c_0000 - 100]).unwrap();
        let p = plan(&img, &alts(&[H7]), &h7(32)).unwrap();
        let t = &p.targets[0];
        let addrs: Vec<u32> = t.erase.iter().map(|s| s.address).collect();
        let expected: Vec<u32> = (2..16).map(|i| 0x0800_0000 + i * 0x2_0000).collect();
        assert_eq!(addrs, expected);
        assert_eq!(t.writes.len(), 1);
        // 0x1bff9c bytes padded up to the next 32-byte flash word with 0xFF.
        assert_eq!(t.writes[0].data.len(), 0x1c_0000 - 96);
        assert_eq!(&t.writes[0].data[0x1c_0000 - 100..], &[0xff; 4]);
        assert_eq!(p.image_bytes(), 0x1c_0000 - 100);
    }

    #[test]
    fn padding_merges_segments_sharing_a_flash_word_and_keeps_real_gaps() {
        let img = Image::single(
            0,
            vec![
                Segment::new(0x0800_0004, vec![1; 4]),
                Segment::new(0x0800_0010, vec![2; 4]),
                Segment::new(0x0800_1000, vec![3; 2]),
            ],
        )
        .unwrap();
        let p = plan(&img, &alts(&[H7]), &h7(32)).unwrap();
        let w = &p.targets[0].writes;
        assert_eq!(w.len(), 2);
        assert_eq!(w[0].address, 0x0800_0000);
        let mut expect = vec![0xff; 32];
        expect[4..8].copy_from_slice(&[1; 4]);
        expect[16..20].copy_from_slice(&[2; 4]);
        assert_eq!(w[0].data, expect);
        assert_eq!((w[1].address, w[1].data.len()), (0x0800_1000, 32));
        assert_eq!(p.targets[0].erase.len(), 1);
    }

    #[test]
    fn refusals_name_the_first_offending_address_and_the_layout() {
        let a = alts(&[
            H7,
            "@Option Bytes   /0x5200201C/01*128 e",
            "@OTP Memory   /0x08FFF000/01*1024 e",
            "@Device Feature/0xFFFF0000/01*004 e",
        ]);
        let err = |img: Image, o: &PlanOptions| plan(&img, &a, o).unwrap_err();
        let e = err(
            Image::from_binary(0x081f_fff0, vec![0; 0x20]).unwrap(),
            &h7(32),
        );
        assert_eq!(
            e,
            PlanError::Absent {
                alt: 0,
                address: 0x0820_0000,
                layout: H7.into()
            }
        );
        let e = err(
            Image::from_binary(0x0700_0000, vec![0; 4]).unwrap(),
            &h7(32),
        );
        assert!(e.to_string().contains("0x07000000, outside the memory of alt setting 0 (@Internal Flash   /0x08000000/16*128Kg)"), "{e}");
        let e = err(
            Image::single(1, vec![Segment::new(0x5200_201c, vec![0; 4])]).unwrap(),
            &h7(1),
        );
        assert!(
            matches!(
                e,
                PlanError::Protected {
                    kind: "option bytes",
                    ..
                }
            ),
            "{e}"
        );
        let e = err(
            Image::single(2, vec![Segment::new(0x08ff_f000, vec![0; 4])]).unwrap(),
            &h7(1),
        );
        assert!(
            matches!(
                e,
                PlanError::Protected {
                    kind: "OTP memory",
                    ..
                }
            ),
            "{e}"
        );
        let e = err(
            Image::single(3, vec![Segment::new(0xffff_0000, vec![0; 4])]).unwrap(),
            &PlanOptions {
                allow_option_bytes: true,
                allow_otp: true,
                ..h7(1)
            },
        );
        assert!(
            matches!(
                e,
                PlanError::Protected {
                    kind: "device feature area",
                    ..
                }
            ),
            "{e}"
        );
        let e = err(
            Image::single(7, vec![Segment::new(0, vec![0])]).unwrap(),
            &h7(1),
        );
        assert!(matches!(e, PlanError::NoSuchAlt { alt: 7, .. }), "{e}");
    }

    #[test]
    fn option_bytes_are_written_without_erase_only_when_allowed() {
        let a = alts(&[H7, "@Option Bytes   /0x5200201C/01*128 e"]);
        let img = Image::single(1, vec![Segment::new(0x5200_201c, vec![0x11; 8])]).unwrap();
        let p = plan(
            &img,
            &a,
            &PlanOptions {
                allow_option_bytes: true,
                ..h7(1)
            },
        )
        .unwrap();
        assert!(p.targets[0].erase.is_empty());
        assert_eq!(p.targets[0].writes[0].data, vec![0x11; 8]);
    }

    #[test]
    fn unreadable_memory_is_refused_only_when_verifying() {
        let a = alts(&["@Secret /0x08000000/04*1Kf"]); // f = erasable + writable, not readable
        let img = Image::from_binary(0x0800_0000, vec![0; 16]).unwrap();
        assert!(matches!(
            plan(&img, &a, &PlanOptions::default()).unwrap_err(),
            PlanError::NotReadable {
                address: 0x0800_0000,
                ..
            }
        ));
        assert!(plan(
            &img,
            &a,
            &PlanOptions {
                verify: false,
                ..Default::default()
            }
        )
        .is_ok());
        let ro = alts(&["@Rom /0x08000000/04*1Ka"]);
        assert!(matches!(
            plan(&img, &ro, &PlanOptions::default()).unwrap_err(),
            PlanError::NotWritable { .. }
        ));
        let ne = alts(&["@Nv /0x08000000/04*1Ke"]);
        assert!(matches!(
            plan(&img, &ne, &PlanOptions::default()).unwrap_err(),
            PlanError::NotErasable { .. }
        ));
    }

    #[test]
    fn mass_erase_plans_no_sector_erases_where_it_reaches() {
        let img = Image::from_binary(0x0800_0000, vec![0; 0x4_0000]).unwrap();
        let p = plan(
            &img,
            &alts(&[H7]),
            &PlanOptions {
                mass_erase: true,
                ..h7(32)
            },
        )
        .unwrap();
        assert!(p.mass_erase && p.sectors() == 0);
        // An image for another alt setting (external flash): the mass erase does not reach it.
        let qspi = Image::single(1, vec![Segment::new(0x9000_1000, vec![0; 16])]).unwrap();
        let a = alts(&[H7, "@External Flash /0x90000000/16*4Kg"]);
        let o = PlanOptions {
            mass_erase: true,
            ..h7(32)
        };
        let p = plan(&qspi, &a, &o).unwrap();
        let erased: Vec<u32> = p.targets[0].erase.iter().map(|s| s.address).collect();
        assert_eq!(erased, [0x9000_1000]);
    }
}
