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

use super::{Builder, FormatError};
use ihex::{ReaderError, Record};

/// Whether the text starts like Intel HEX.
pub fn detect(data: &[u8]) -> bool {
    data.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b':')
}

fn describe(e: ReaderError) -> String {
    match e {
        ReaderError::ChecksumMismatch(expected, found) => {
            format!("HEX checksum expected {expected:#04x}, found {found:#04x}")
        }
        ReaderError::MissingStartCode => "expected ':' at the start of the record".into(),
        ReaderError::RecordTooShort => "record too short".into(),
        ReaderError::RecordTooLong => "record longer than 255 data bytes".into(),
        ReaderError::RecordNotEvenLength => "odd number of hex digits".into(),
        ReaderError::ContainsInvalidCharacters => {
            "characters that are not hexadecimal digits".into()
        }
        ReaderError::PayloadLengthMismatch => "byte count does not match the record length".into(),
        ReaderError::UnsupportedRecordType(t) => {
            format!("unknown record type {t:#04x} (expected 00 to 05)")
        }
        ReaderError::InvalidLengthForType => "wrong byte count for the record type".into(),
    }
}

/// Reads an Intel HEX file into one target for alt setting 0.
pub fn read(data: &[u8], name: &str) -> Result<super::Image, FormatError> {
    let mut b = Builder::new(name, data.len() as u64 / 2);
    let mut base: u64 = 0;
    let mut ended = false;
    for item in super::lines(data, name) {
        let (i, line) = item?;
        if ended {
            return Err(FormatError::Line {
                file: name.into(),
                line: i,
                detail: "data after the end-of-file record".into(),
            });
        }
        let rec = Record::from_record_string(line).map_err(|e| FormatError::Line {
            file: name.into(),
            line: i,
            detail: describe(e),
        })?;
        match rec {
            Record::Data { offset, value } => b.push(base + offset as u64, &value)?,
            Record::EndOfFile => ended = true,
            Record::ExtendedSegmentAddress(seg) => base = (seg as u64) << 4,
            Record::ExtendedLinearAddress(upper) => base = (upper as u64) << 16,
            Record::StartSegmentAddress { .. } | Record::StartLinearAddress(_) => {}
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
