//! ST DfuSe files (UM0391): a prefix, targets of elements, and a DFU suffix.
//!
//! ```
//! use dfuflash::image::{dfuse, Image, Segment, Target};
//!
//! let img = Image::new(vec![
//!     Target { alt: 0, name: Some("Internal Flash".into()), segments: vec![Segment::new(0x0800_0000, vec![1, 2, 3])] },
//!     Target { alt: 1, name: None, segments: vec![Segment::new(0x1fff_c000, vec![4])] },
//! ]).unwrap();
//! let file = dfuse::write(&img, 0x0483, 0xdf11, 0xffff);
//! let back = dfuse::read(&file, "fw.dfu").unwrap();
//! assert_eq!(back.targets, img.targets);
//! assert_eq!(back.suffix.unwrap().vendor_id, 0x0483);
//! ```

use super::suffix::{self, Suffix};
use super::{FormatError, Image, Segment, Target};

const PREFIX: usize = 11;
const TARGET_PREFIX: usize = 274;

struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
    name: &'a str,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: u64, what: impl Fn() -> String) -> Result<&'a [u8], FormatError> {
        let available = self.data.len() - self.pos;
        if n > available as u64 {
            return Err(FormatError::Truncated {
                file: self.name.to_string(),
                what: what(),
                offset: self.pos,
                needed: n,
                available,
            });
        }
        let s = &self.data[self.pos..self.pos + n as usize];
        self.pos += n as usize;
        Ok(s)
    }

    fn u32(&mut self, what: impl Fn() -> String) -> Result<u32, FormatError> {
        let b = self.take(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
}

fn field(
    name: &str,
    offset: usize,
    what: &'static str,
    expected: impl ToString,
    found: impl ToString,
) -> FormatError {
    FormatError::Field {
        file: name.to_string(),
        offset,
        what,
        expected: expected.to_string(),
        found: found.to_string(),
    }
}

/// Whether `data` starts like a DfuSe file.
pub fn detect(data: &[u8]) -> bool {
    data.starts_with(b"DfuSe")
}

/// Reads a DfuSe file: every size is checked against the file before it is used, and the
/// suffix CRC must match. Never allocates more than the file holds.
pub fn read(file: &[u8], name: &str) -> Result<Image, FormatError> {
    let (body, suffix) = suffix::split(file, name)?;
    let suffix = suffix.ok_or_else(|| {
        field(
            name,
            file.len().saturating_sub(8),
            "DFU suffix signature",
            "\"UFD\"",
            "none (the file is truncated or not a DfuSe file)",
        )
    })?;
    if suffix.bcd_dfu != 0x011a {
        return Err(field(
            name,
            file.len() - 10,
            "suffix bcdDFU",
            "0x011a",
            format!("{:#06x}", suffix.bcd_dfu),
        ));
    }
    let mut c = Cursor {
        data: body,
        pos: 0,
        name,
    };
    let prefix = c.take(PREFIX as u64, || "DfuSe prefix".into())?;
    if &prefix[..5] != b"DfuSe" {
        return Err(field(
            name,
            0,
            "signature",
            "\"DfuSe\"",
            String::from_utf8_lossy(&prefix[..5]),
        ));
    }
    if prefix[5] != 1 {
        return Err(field(name, 5, "bVersion", 1, prefix[5]));
    }
    let image_size = u32::from_le_bytes([prefix[6], prefix[7], prefix[8], prefix[9]]) as u64;
    // dfuse-pack and ST's tools count the whole file; accept the size without the suffix too.
    if image_size != file.len() as u64 && image_size != body.len() as u64 {
        return Err(field(name, 6, "DFUImageSize", file.len(), image_size));
    }
    let n_targets = prefix[10];
    let mut targets = Vec::with_capacity(n_targets as usize);
    for t in 0..n_targets {
        let at = c.pos;
        let tp = c.take(TARGET_PREFIX as u64, || format!("prefix of target {t}"))?;
        if &tp[..6] != b"Target" {
            return Err(field(
                name,
                at,
                "target signature",
                "\"Target\"",
                String::from_utf8_lossy(&tp[..6]),
            ));
        }
        let alt = tp[6];
        let named = u32::from_le_bytes([tp[7], tp[8], tp[9], tp[10]]) != 0;
        let raw_name = &tp[11..266];
        let tname = named.then(|| {
            String::from_utf8_lossy(raw_name.split(|b| *b == 0).next().unwrap_or(&[])).into_owned()
        });
        let size = u32::from_le_bytes([tp[266], tp[267], tp[268], tp[269]]) as u64;
        let n_elements = u32::from_le_bytes([tp[270], tp[271], tp[272], tp[273]]);
        let body_at = c.pos;
        let tbody = c.take(size, || format!("target {t} ({size} bytes)"))?;
        let mut tc = Cursor {
            data: tbody,
            pos: 0,
            name,
        };
        let mut segments = Vec::new();
        for e in 0..n_elements {
            let address = tc.u32(|| format!("element {e} of target {t}"))?;
            let len = tc.u32(|| format!("element {e} of target {t}"))?;
            let eat = body_at + tc.pos;
            let data = tc
                .take(len as u64, || format!("element {e} of target {t}"))
                .map_err(|err| match err {
                    FormatError::Truncated {
                        file,
                        what,
                        needed,
                        available,
                        ..
                    } => FormatError::Truncated {
                        file,
                        what,
                        offset: eat,
                        needed,
                        available,
                    },
                    other => other,
                })?;
            if address as u64 + len as u64 > 1 << 32 {
                return Err(field(
                    name,
                    eat - 8,
                    "element address",
                    "an element inside the 32-bit address space",
                    format!("{address:#010x} + {len} bytes"),
                ));
            }
            segments.push(Segment::new(address, data.to_vec()));
        }
        if tc.pos != tbody.len() {
            return Err(field(
                name,
                body_at + tc.pos,
                "target size",
                format!("{} bytes of elements", tc.pos),
                format!("dwTargetSize {size}"),
            ));
        }
        targets.push(Target {
            alt,
            name: tname,
            segments,
        });
    }
    if c.pos != body.len() {
        return Err(field(
            name,
            c.pos,
            "end of targets",
            "the DFU suffix",
            format!("{} more bytes", body.len() - c.pos),
        ));
    }
    let mut image = super::from_targets(targets, name)?;
    image.suffix = Some(suffix);
    Ok(image)
}

/// Writes a DfuSe file: one target per alt setting, one element per segment, a suffix with
/// these ids (0xFFFF = any) and bcdDFU 0x011A.
pub fn write(image: &Image, vendor_id: u16, product_id: u16, bcd_device: u16) -> Vec<u8> {
    let mut body = Vec::with_capacity(image.len() as usize + 512);
    for t in &image.targets {
        let size: u64 = t.segments.iter().map(|s| 8 + s.data.len() as u64).sum();
        body.extend_from_slice(b"Target");
        body.push(t.alt);
        body.extend_from_slice(&(t.name.is_some() as u32).to_le_bytes());
        let mut name = [0u8; 255];
        if let Some(n) = &t.name {
            let b = n.as_bytes();
            let k = b.len().min(254);
            name[..k].copy_from_slice(&b[..k]);
        }
        body.extend_from_slice(&name);
        body.extend_from_slice(&(size as u32).to_le_bytes());
        body.extend_from_slice(&(t.segments.len() as u32).to_le_bytes());
        for s in &t.segments {
            body.extend_from_slice(&s.address.to_le_bytes());
            body.extend_from_slice(&(s.data.len() as u32).to_le_bytes());
            body.extend_from_slice(&s.data);
        }
    }
    let total = (PREFIX + body.len() + suffix::LEN) as u32;
    let mut file = Vec::with_capacity(total as usize);
    file.extend_from_slice(b"DfuSe");
    file.push(1);
    file.extend_from_slice(&total.to_le_bytes());
    file.push(image.targets.len() as u8);
    file.extend_from_slice(&body);
    suffix::append(
        &file,
        &Suffix {
            bcd_device,
            product_id,
            vendor_id,
            bcd_dfu: 0x011a,
        },
    )
}
