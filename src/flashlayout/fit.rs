//! A layout held against its binaries, before any request: what a device would refuse midway,
//! or write over silently, is refused with the row's line first.

use super::tsv::{Column, FlashLayout, Ip, Row, TsvError};

/// The first DNLOAD of a partition is block 2 (snagboot, U-Boot) and the device places block N
/// at (N - 2) × wTransferSize: a partition ends at the last 16-bit block number.
pub const MAX_BLOCKS: u64 = 0x1_0000 - 2;

impl FlashLayout {
    /// Checks every row that is sent (`sizes[i]`: the bytes of row i's binary, None when it is
    /// not sent): none empty, none past the block numbers at this transfer size, and no two
    /// partitions of one memory over each other (a binary running into the next row's offset
    /// would overwrite it).
    pub fn check_fit(&self, sizes: &[Option<u64>], transfer_size: u16) -> Result<(), TsvError> {
        let most = MAX_BLOCKS * transfer_size.max(1) as u64;
        for (row, size) in self.rows.iter().zip(sizes) {
            match size {
                Some(0) => {
                    return Err(self.field(row, Column::Binary, "is empty; a partition needs at least one byte".into()))
                }
                Some(n) if *n > most => {
                    return Err(self.field(
                        row,
                        Column::Binary,
                        format!(
                            "{n} bytes need more than {MAX_BLOCKS} DFU blocks of {transfer_size} bytes; at most {most} bytes fit one partition"
                        ),
                    ))
                }
                _ => {}
            }
        }
        let mut placed: Vec<(&Row, u64, u64)> = self
            .rows
            .iter()
            .zip(sizes)
            .filter_map(|(r, s)| match (&r.ip, r.offset) {
                (Ip::Memory(..), Some(at)) => Some((r, at, at.saturating_add(s.unwrap_or(0)))),
                _ => None,
            })
            .collect();
        placed.sort_by(|a, b| (&a.0.ip_text, a.1).cmp(&(&b.0.ip_text, b.1)));
        for w in placed.windows(2) {
            let ((a, a_at, a_end), (b, b_at, _)) = (w[0], w[1]);
            if a.ip_text == b.ip_text && (a_end > b_at || a_at == b_at) {
                return Err(self.field(
                    b,
                    Column::Offset,
                    format!(
                        "{} at {b_at:#x} of {} lies inside {} (line {}, {a_at:#x}..{a_end:#x}); partitions of one memory must not overlap",
                        b.name, b.ip_text, a.name, a.line
                    ),
                ));
            }
        }
        Ok(())
    }

    fn field(&self, row: &Row, column: Column, detail: String) -> TsvError {
        TsvError::Field {
            file: self.path.display().to_string(),
            line: row.line,
            column,
            detail: format!("{}: {detail}", row.name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn layout(rows: &[&str]) -> FlashLayout {
        FlashLayout::parse(&rows.join("\n"), Path::new("L.tsv")).unwrap()
    }

    #[test]
    fn partitions_of_one_memory_that_overlap_are_refused_on_the_later_row() {
        let l = layout(&[
            "P\t0x1\tfsbl\tBinary\tnone\t0x0\ta",
            "P\t0x4\tapp\tBinary\tnor0\t0x0\tb",
            "PE\t0x5\tdata\tBinary\tnor0\t0x10000\tc",
            "P\t0x6\tother\tBinary\tnor1\t0x0\td",
        ]);
        // 0x10000 bytes of app end where data starts: fine; one more byte runs into it.
        let fits = [Some(9), Some(0x10000), None, Some(5)];
        assert_eq!(l.check_fit(&fits, 1024), Ok(()));
        let e = l
            .check_fit(&[Some(9), Some(0x10001), None, Some(5)], 1024)
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "L.tsv:3: column Offset: data: data at 0x10000 of nor0 lies inside app (line 2, 0x0..0x10001); partitions of one memory must not overlap"
        );
    }

    #[test]
    fn an_empty_binary_and_one_past_the_block_numbers_are_refused() {
        let l = layout(&["P\t0x4\tapp\tBinary\tnor0\t0x0\tb"]);
        let e = l.check_fit(&[Some(0)], 1024).unwrap_err().to_string();
        assert_eq!(
            e,
            "L.tsv:1: column Binary: app: is empty; a partition needs at least one byte"
        );
        assert_eq!(l.check_fit(&[Some(65534 * 1024)], 1024), Ok(()));
        let e = l
            .check_fit(&[Some(65534 * 1024 + 1)], 1024)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(
                "67106817 bytes need more than 65534 DFU blocks of 1024 bytes; at most 67106816"
            ),
            "{e}"
        );
    }
}
