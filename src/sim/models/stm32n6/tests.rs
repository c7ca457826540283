//! The N6 model's own parts: the OpenBootloader's layout reading, the NOR.

use super::*;

#[test]
fn the_obl_hangs_on_a_seventh_column_and_drops_a_last_row_without_a_line_feed() {
    let mut l = vec![0u8; 256];
    l.extend_from_slice(b"P\t0x1\ta\tBinary\tnone\t0x0\nP\t0x4\tb\tBinary\tnor0\t0x1000");
    assert_eq!(parse_obl_layout(&l), Some(vec![(1, 0)]));
    let mut l = vec![0u8; 256];
    l.extend_from_slice(b"P\t0x1\ta\tBinary\tnone\t0x0\tx.bin\n");
    assert_eq!(parse_obl_layout(&l), None);
    let mut l = vec![0u8; 256];
    l.extend_from_slice(b"#Opt\tId\n");
    assert_eq!(parse_obl_layout(&l), None);
}

#[test]
fn nor_sectors_are_erased_once_per_download_and_read_back() {
    let mut n = N6::new();
    let mut w = Duration::ZERO;
    n.nor_write(0x0ffe, &[1, 2, 3, 4], &mut w).unwrap();
    assert_eq!(w, NOR_ERASE * 2 + NOR_WRITE_PER_KB);
    assert_eq!(n.nor(0x0ffd, 6), [0xff, 1, 2, 3, 4, 0xff]);
    // A second write to a touched sector without an erase only clears bits.
    assert_eq!(n.nor_write(0x0ffe, &[0xff], &mut w), Err(Status::ErrVerify));
}
