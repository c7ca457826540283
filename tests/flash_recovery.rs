//! Flash jobs around the Rev V recovery: a board that lies about its recovered erases, a write
//! failing in a recovered sector, the order of the events a recovery reports.

mod common;

use common::*;

use dfuflash::image::Image;
use dfuflash::sim::SimDevice;
use dfuflash::Error;

/// Flashes `image_at` on a Rev V that lies: its recovered erases erase nothing. `old` is
/// non-erased data already on the board.
fn flash_lying_revv(old: (u32, usize), image_at: u32, seed: u32) -> Error {
    let mut dev = SimDevice::new("stm32h743-revv").unwrap();
    dev.poke(0, old.0, &vec![0x00; old.1]);
    dev.set_faults(dfuflash::sim::Faults {
        wedge_no_erase: true,
        ..Default::default()
    });
    let mut dfu = open_dev(dev, true);
    flash(
        &mut dfu,
        &Image::from_binary(image_at, pattern(0x1000, seed)).unwrap(),
        &opts(),
    )
    .unwrap_err()
}

#[test]
fn a_lying_rev_v_whose_recovered_erase_did_nothing_is_caught_by_the_read_back() {
    // Old data in the part of sector 15 the image does not cover.
    let err = flash_lying_revv((0x081f_f000, 16), 0x081e_0000, 1);
    assert_eq!(err.kind(), "workaround_check");
    assert!(
        matches!(
            err,
            Error::WorkaroundCheck {
                sector: 0x081e_0000,
                address: 0x081f_f000,
                found: 0
            }
        ),
        "{err}"
    );
    assert!(err
        .to_string()
        .contains("not erased after the STM32H7 Rev V recovery"));
}

#[test]
fn a_write_failing_in_a_recovered_sector_names_the_recovery_as_the_likely_cause() {
    // Old data where the image writes, in a sector whose recovered erase did nothing.
    let err = flash_lying_revv((0x0812_0400, 32), 0x0812_0000, 3);
    assert_eq!(err.kind(), "device_status");
    assert!(
        matches!(
            err,
            Error::WriteAfterRecovery {
                sector: 0x0812_0000,
                ..
            }
        ),
        "{err}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains("errPROG")
            && msg.contains("sector 0x08120000 was erased through the STM32H7 Rev V recovery"),
        "{msg}"
    );
}

#[test]
fn the_erase_of_a_recovered_sector_is_reported_before_its_recovery() {
    let mut dfu = open("stm32h743-revv");
    let image = Image::from_binary(0x080e_0000, pattern(0x2_0100, 4)).unwrap();
    let (r, events) = flash_events(&mut dfu, &image, &opts());
    let r = r.unwrap();
    assert_eq!(r.workaround_sectors, [0x0810_0000]);
    let erased = events
        .iter()
        .position(|e| e.starts_with("Progress { phase: Erase, done: 2,"))
        .unwrap_or_else(|| panic!("{events:?}"));
    let recovered = events
        .iter()
        .position(|e| e.starts_with("Workaround"))
        .unwrap_or_else(|| panic!("{events:?}"));
    assert!(erased < recovered, "{events:?}");
    // The read-back of the recovered sector is announced after the verify phase, never before.
    let verify = events
        .iter()
        .position(|e| e.starts_with("PhaseStart { phase: Verify"))
        .unwrap();
    let checked = events
        .iter()
        .position(|e| e.contains("0x08100000: the Rev V recovery's erase is checked by read-back"))
        .unwrap_or_else(|| panic!("{events:?}"));
    assert!(verify < checked, "{events:?}");
    assert_eq!(r.bytes_verified + r.bytes_checked, 0x2_0100 + 0x1_ff00);
}
