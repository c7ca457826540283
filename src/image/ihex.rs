//! Intel HEX: every record type, checksums, extended segment (02) and linear (04) addresses.
//!
//! ```
//! let text = ":0400000001020304F2\n:00000001FF\n";
//! let img = dfuflash::image::ihex::read(text.as_bytes(), "a.hex").unwrap();
//! assert_eq!(img.targets[0].segments[0].data, [1, 2, 3, 4]);
//! let bad = ":0400000001020305F2\n:00000001FF\n";
//! let e = dfuflash::image::ihex::read(bad.as_bytes(), "a.hex").unwrap_err().to_string();
//! assert_eq!(e, "a.hex: line 1: HEX checksum expected 0xf1, found 0xf2");
//! ```

use super::{first_line_is, Builder, FormatError};

/// Whether the text starts like Intel HEX: a first line of ':' and hex digits.
pub fn detect(data: &[u8]) -> bool {
    first_line_is(data, b":", 11)
}

/// Decodes one record into `buf`: (type, 16-bit offset, data).
fn record<'b>(line: &str, buf: &'b mut [u8; 260]) -> Result<(u8, u16, &'b [u8]), String> {
    let digits = line
        .strip_prefix(':')
        .ok_or("expected ':' at the start of the record")?
        .as_bytes();
    if digits.len() % 2 != 0 {
        return Err("odd number of hex digits".into());
    }
    let n = digits.len() / 2;
    if n < 5 {
        return Err("record too short".into());
    }
    if n > buf.len() {
        return Err("record longer than 255 data bytes".into());
    }
    faster_hex::hex_decode(digits, &mut buf[..n])
        .map_err(|_| "characters that are not hexadecimal digits".to_string())?;
    let count = buf[0] as usize;
    if n != count + 5 {
        return Err(format!(
            "byte count {count} does not match the record's {} data bytes",
            n - 5
        ));
    }
    let sum = buf[..n - 1].iter().fold(0u8, |a, x| a.wrapping_add(*x));
    let expected = sum.wrapping_neg();
    if buf[n - 1] != expected {
        return Err(format!(
            "HEX checksum expected {expected:#04x}, found {:#04x}",
            buf[n - 1]
        ));
    }
    let t = buf[3];
    let want = match t {
        0 => None,
        1 => Some(0),
        2 | 4 => Some(2),
        3 | 5 => Some(4),
        _ => return Err(format!("unknown record type {t:#04x} (expected 00 to 05)")),
    };
    if want.is_some_and(|w| w != count) {
        return Err(format!(
            "record type {t:02} holds {count} bytes, expected {}",
            want.unwrap_or(0)
        ));
    }
    Ok((t, u16::from_be_bytes([buf[1], buf[2]]), &buf[4..4 + count]))
}

/// Reads an Intel HEX file into one target for alt setting 0.
pub fn read(data: &[u8], name: &str) -> Result<super::Image, FormatError> {
    let mut b = Builder::new(name, data.len() as u64 / 2);
    let mut base: u64 = 0;
    let mut ended = false;
    let mut buf = [0u8; 260];
    for item in super::lines(data, name) {
        let (i, line) = item?;
        if ended {
            return Err(FormatError::Line {
                file: name.into(),
                line: i,
                detail: "data after the end-of-file record".into(),
            });
        }
        let (t, offset, bytes) = record(line, &mut buf).map_err(|detail| FormatError::Line {
            file: name.into(),
            line: i,
            detail,
        })?;
        match t {
            0 => b.push(base + offset as u64, bytes)?,
            1 => ended = true,
            2 => base = (u16::from_be_bytes([bytes[0], bytes[1]]) as u64) << 4,
            4 => base = (u16::from_be_bytes([bytes[0], bytes[1]]) as u64) << 16,
            _ => {} // 03 and 05: start addresses
        }
    }
    if !ended {
        return Err(FormatError::Line {
            file: name.into(),
            line: 0,
            detail: "no end-of-file record (type 01): the file is truncated".into(),
        });
    }
    b.finish()
}
