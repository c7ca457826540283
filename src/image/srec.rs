//! Motorola S-records: S0 header, S1/S2/S3 data, S5/S6 counts, S7/S8/S9 termination.
//!
//! The record structure is parsed here rather than with the `srec` crate: that crate (0.2,
//! unmaintained since 2020) panics on a malformed S0 record and ignores text after a checksum,
//! and this reader must never panic and never drop a record. Hex digits are decoded by the
//! `faster-hex` crate.
//!
//! ```
//! let text = "S00600004844521B\nS107100001020304DE\nS9031000EC\n";
//! let img = dfuflash::image::srec::read(text.as_bytes(), "a.srec").unwrap();
//! assert_eq!(img.targets[0].segments[0].address, 0x1000);
//! assert_eq!(img.targets[0].segments[0].data, [1, 2, 3, 4]);
//! let bad = "S107100001020304DF\nS9031000EC\n";
//! let e = dfuflash::image::srec::read(bad.as_bytes(), "a.srec").unwrap_err().to_string();
//! assert_eq!(e, "a.srec: line 1: S-record checksum expected 0xde, found 0xdf");
//! ```

use super::{first_line_is, Builder, FormatError};

/// Whether the text starts like an S-record file: a first line of 'S', a type digit and hex
/// digits.
pub fn detect(data: &[u8]) -> bool {
    first_line_is(data, b"S", 10)
}

/// Decodes one record into `buf`: its type digit, address, and data (checksum verified).
fn record<'b>(line: &str, buf: &'b mut [u8; 256]) -> Result<(u8, u32, &'b [u8]), String> {
    let b = line.as_bytes();
    if b.len() < 4 || b[0] != b'S' || !b[1].is_ascii_digit() {
        return Err("expected 'S', a type digit and a byte count".into());
    }
    let t = b[1] - b'0';
    let addr_len = match t {
        0 | 1 | 5 | 9 => 2,
        2 | 6 | 8 => 3,
        3 | 7 => 4,
        _ => return Err(format!("unknown record type S{t}")),
    };
    let not_hex = |_| "characters that are not hexadecimal digits".to_string();
    let mut c = [0u8; 1];
    faster_hex::hex_decode(&b[2..4], &mut c).map_err(not_hex)?;
    let count = c[0] as usize;
    if b.len() != 4 + 2 * count {
        return Err(format!(
            "length expected {} characters for byte count {count}, found {}",
            4 + 2 * count,
            b.len()
        ));
    }
    if count < addr_len + 1 {
        return Err(format!("byte count {count} too small for an S{t} record"));
    }
    faster_hex::hex_decode(&b[4..], &mut buf[..count]).map_err(not_hex)?;
    let sum = buf[..count - 1]
        .iter()
        .fold(count as u8, |a, x| a.wrapping_add(*x));
    let expected = !sum;
    if buf[count - 1] != expected {
        return Err(format!(
            "checksum expected {expected:#04x}, found {:#04x}",
            buf[count - 1]
        ));
    }
    let address = buf[..addr_len]
        .iter()
        .fold(0u32, |a, x| (a << 8) | *x as u32);
    Ok((t, address, &buf[addr_len..count - 1]))
}

/// Reads an S-record file into one target for alt setting 0. A termination record (S7, S8 or
/// S9) is required, and S5/S6 counts must match the data records before them.
pub fn read(data: &[u8], name: &str) -> Result<super::Image, FormatError> {
    let mut b = Builder::new(name, data.len() as u64 / 2);
    let mut records: u64 = 0;
    let mut ended = false;
    let mut buf = [0u8; 256];
    let line_err = |line: usize, detail: String| FormatError::Line {
        file: name.into(),
        line,
        detail,
    };
    for item in super::lines(data, name) {
        let (i, line) = item?;
        if ended {
            return Err(line_err(i, "data after the termination record".into()));
        }
        let (t, address, bytes) =
            record(line, &mut buf).map_err(|e| line_err(i, format!("S-record {e}")))?;
        match t {
            1..=3 => {
                records += 1;
                b.push(address as u64, bytes)?;
            }
            5 | 6 if address as u64 != records => {
                return Err(line_err(
                    i,
                    format!("record count expected {records}, found {address}"),
                ));
            }
            7..=9 => ended = true,
            _ => {}
        }
    }
    if !ended {
        return Err(line_err(
            0,
            "no termination record (S7, S8 or S9): the file is truncated".into(),
        ));
    }
    b.finish()
}
