//! The DFU suffix (DFU 1.1 appendix B): the last 16 bytes of a file.
//!
//! ```
//! use dfuflash::image::suffix::{self, Suffix};
//!
//! let s = Suffix { bcd_device: 0xffff, product_id: 0xdf11, vendor_id: 0x0483, bcd_dfu: 0x0100 };
//! let file = suffix::append(b"firmware", &s);
//! assert_eq!(file.len(), 8 + 16);
//! let (payload, found) = suffix::split(&file, "fw.bin").unwrap();
//! assert_eq!((payload, found), (&b"firmware"[..], Some(s)));
//! ```

use super::FormatError;

/// Length of the suffix.
pub const LEN: usize = 16;

/// What the suffix says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Suffix {
    /// bcdDevice (0xFFFF = any).
    pub bcd_device: u16,
    /// idProduct (0xFFFF = any).
    pub product_id: u16,
    /// idVendor (0xFFFF = any).
    pub vendor_id: u16,
    /// bcdDFU: 0x0100, or 0x011A for DfuSe files.
    pub bcd_dfu: u16,
}

impl Suffix {
    /// Whether a device with these ids may take the file. 0xFFFF matches anything; a bcdDevice
    /// of 0 (what dfuse-pack writes) is taken as "not set".
    pub fn matches(&self, vendor_id: u16, product_id: u16, bcd_device: u16) -> bool {
        let ok = |want: u16, have: u16| want == 0xffff || want == have;
        ok(self.vendor_id, vendor_id)
            && ok(self.product_id, product_id)
            && (self.bcd_device == 0 || ok(self.bcd_device, bcd_device))
    }
}

/// The suffix CRC: CRC-32 (reflected, polynomial 0xEDB88320, initial 0xFFFFFFFF) without the
/// final inversion.
pub fn crc(bytes: &[u8]) -> u32 {
    !crc32fast::hash(bytes)
}

/// Splits a file into payload and suffix. A file without the `UFD` signature has no suffix
/// (`Ok((file, None))`); a file with the signature must have a matching CRC.
pub fn split<'a>(file: &'a [u8], name: &str) -> Result<(&'a [u8], Option<Suffix>), FormatError> {
    if file.len() < LEN {
        return Ok((file, None));
    }
    let s = &file[file.len() - LEN..];
    if &s[8..11] != b"UFD" {
        return Ok((file, None));
    }
    let at = file.len() - LEN;
    if s[11] as usize != LEN {
        return Err(FormatError::Field {
            file: name.to_string(),
            offset: at + 11,
            what: "DFU suffix bLength",
            expected: "16".into(),
            found: s[11].to_string(),
        });
    }
    let stored = u32::from_le_bytes([s[12], s[13], s[14], s[15]]);
    let computed = crc(&file[..file.len() - 4]);
    if stored != computed {
        return Err(FormatError::Crc {
            file: name.to_string(),
            expected: computed,
            found: stored,
        });
    }
    let u16at = |i: usize| u16::from_le_bytes([s[i], s[i + 1]]);
    Ok((
        &file[..at],
        Some(Suffix {
            bcd_device: u16at(0),
            product_id: u16at(2),
            vendor_id: u16at(4),
            bcd_dfu: u16at(6),
        }),
    ))
}

/// `payload` followed by a suffix with a correct CRC.
pub fn append(payload: &[u8], s: &Suffix) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + LEN);
    out.extend_from_slice(payload);
    out.extend_from_slice(&s.bcd_device.to_le_bytes());
    out.extend_from_slice(&s.product_id.to_le_bytes());
    out.extend_from_slice(&s.vendor_id.to_le_bytes());
    out.extend_from_slice(&s.bcd_dfu.to_le_bytes());
    out.extend_from_slice(b"UFD");
    out.push(LEN as u8);
    let c = crc(&out);
    out.extend_from_slice(&c.to_le_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_matches_the_dfu_specification_check_value() {
        // CRC-32 of "123456789" is 0xCBF43926; without the final inversion, 0x340BC6D9.
        assert_eq!(crc(b"123456789"), 0x340b_c6d9);
    }

    #[test]
    fn a_corrupt_suffix_is_an_error_naming_expected_and_found() {
        let s = Suffix {
            bcd_device: 1,
            product_id: 2,
            vendor_id: 3,
            bcd_dfu: 0x0100,
        };
        let mut f = append(b"abc", &s);
        f[0] ^= 1;
        let e = split(&f, "x.bin").unwrap_err().to_string();
        assert!(e.starts_with("x.bin: DFU suffix CRC expected 0x"), "{e}");
        let mut f = append(b"abc", &s);
        let n = f.len();
        f[n - 5] = 15;
        assert!(split(&f, "x.bin")
            .unwrap_err()
            .to_string()
            .contains("bLength"));
    }

    #[test]
    fn matching_treats_ffff_as_any_and_zero_bcd_device_as_unset() {
        let s = Suffix {
            bcd_device: 0,
            product_id: 0xdf11,
            vendor_id: 0x0483,
            bcd_dfu: 0x011a,
        };
        assert!(s.matches(0x0483, 0xdf11, 0x0200));
        assert!(!s.matches(0x1209, 0xdf11, 0x0200));
        let any = Suffix {
            bcd_device: 0xffff,
            product_id: 0xffff,
            vendor_id: 0xffff,
            bcd_dfu: 0x0100,
        };
        assert!(any.matches(1, 2, 3));
        let dev = Suffix {
            bcd_device: 0x2200,
            ..any
        };
        assert!(!dev.matches(1, 2, 0x2100));
    }
}
