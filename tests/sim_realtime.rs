//! The simulator's real-time settings (the USB bench's gadget runs a model in real time behind a
//! real bus): they change what is slept, never the modelled device.

mod common;

use common::*;
use std::time::Duration;

use dfuflash::image::Image;
use dfuflash::sim::SimDevice;
use dfuflash::transport::Transport;

/// Flashes 1.125 MB at 0x080c0000 onto Rev V (sectors 6 to 14; the recovery runs for the seven
/// past 0x08100000) and returns the device afterwards.
fn flash_revv(setup: impl FnOnce(&mut SimDevice)) -> SimDevice {
    let data = pattern(0x12_0000, 5);
    let mut dev = SimDevice::new("stm32h743-revv").unwrap();
    setup(&mut dev);
    let mut dfu = open_dev(dev, true);
    let image = Image::from_binary(0x080c_0000, data).unwrap();
    let r = flash(&mut dfu, &image, &opts()).unwrap();
    assert_eq!(r.workaround_sectors.len(), 7);
    dfu.into_transport()
}

#[test]
fn a_real_bus_and_owed_sleeps_leave_clock_stats_transcript_and_memory_alone() {
    // Real time, but a million times faster: the whole run sleeps microseconds. (The scale
    // also shortens the poll timeouts the device reports, so both runs use it.)
    let realtime = |d: &mut SimDevice| {
        d.set_realtime(true);
        d.set_time_scale(1e6);
    };
    let plain = flash_revv(realtime);
    let bench = flash_revv(|d| {
        realtime(d);
        d.set_real_bus(true);
        d.set_min_sleep(Duration::from_millis(1));
    });
    assert_eq!(bench.now(), plain.now());
    assert_eq!(bench.stats(), plain.stats());
    assert_eq!(bench.transcript(), plain.transcript());
    assert_eq!(
        bench.memory(0, 0x0800_0000, 0x20_0000),
        plain.memory(0, 0x0800_0000, 0x20_0000)
    );
}
