//! Motorola S-records: S0 header, S1/S2/S3 data, S5/S6 counts, S7/S8/S9 termination.
//!
//! ```
//! let text = "S00600004844521B\nS107100001020304DE\nS9031000EC\n";
//! let img = dfuflash::image::srec::read(text.as_bytes(), "a.srec").unwrap();
//! assert_eq!(img.targets[0].segments[0].address, 0x1000);
//! assert_eq!(img.targets[0].segments[0].data, [1, 2, 3, 4]);
//! ```

use super::{Builder, FormatError};
use srec::Record;

/// Whether the text starts like an S-record file.
pub fn detect(data: &[u8]) -> bool {
    let mut it = data.iter().skip_while(|b| b.is_ascii_whitespace());
    it.next() == Some(&b'S') && it.next().is_some_and(|b| b.is_ascii_digit())
}

/// Reads an S-record file into one target for alt setting 0. A termination record (S7, S8 or
/// S9) is required, and S5/S6 counts must match the data records before them.
pub fn read(data: &[u8], name: &str) -> Result<super::Image, FormatError> {
    let mut b = Builder::new(name);
    let mut records: u64 = 0;
    let mut ended = false;
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
        // The srec crate ignores text after a record's checksum; a line must be exactly one
        // record (`S`, type, count, then count bytes as hex digits), so nothing is dropped.
        let count = line.get(2..4).and_then(|c| u8::from_str_radix(c, 16).ok());
        match count {
            Some(n) if line.len() == 4 + 2 * n as usize => {}
            Some(n) => {
                return Err(line_err(
                    i,
                    format!(
                        "S-record length expected {} characters for byte count {n}, found {}",
                        4 + 2 * n as usize,
                        line.len()
                    ),
                ))
            }
            None => {
                return Err(line_err(
                    i,
                    "S-record byte count is not two hex digits".into(),
                ))
            }
        }
        for rec in srec::read_records(line) {
            if ended {
                return Err(line_err(i, "data after the termination record".into()));
            }
            match rec.map_err(|e| line_err(i, format!("S-record {e}")))? {
                Record::S0(_) => {}
                Record::S1(d) => {
                    records += 1;
                    b.push(u32::from(d.address) as u64, &d.data)?
                }
                Record::S2(d) => {
                    records += 1;
                    b.push(u32::from(d.address) as u64, &d.data)?
                }
                Record::S3(d) => {
                    records += 1;
                    b.push(u32::from(d.address) as u64, &d.data)?
                }
                Record::S5(n) => check_count(u32::from(n) as u64, records, i, name)?,
                Record::S6(n) => check_count(u32::from(n) as u64, records, i, name)?,
                Record::S7(_) | Record::S8(_) | Record::S9(_) => ended = true,
            }
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

fn check_count(said: u64, counted: u64, line: usize, name: &str) -> Result<(), FormatError> {
    if said == counted {
        Ok(())
    } else {
        Err(FormatError::Line {
            file: name.into(),
            line,
            detail: format!("record count expected {counted}, found {said}"),
        })
    }
}
