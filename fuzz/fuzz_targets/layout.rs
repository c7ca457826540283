#![no_main]
//! A layout string is the device's to choose: parsing never panics, and what it accepts ends
//! below 4 GiB, has no overlapping groups, stays within the sector limit, and finds each
//! sector it lists at its own address.
use dfuflash::layout::{Layout, MAX_SECTORS, MAX_SECTOR_SIZE};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Ok(l) = Layout::parse(&text) else { return };
    let n = l.sector_count();
    assert!(n as u64 <= MAX_SECTORS);
    let mut groups: Vec<_> = l.groups.iter().filter(|g| g.end() > g.start as u64).collect();
    groups.sort_by_key(|g| g.start);
    for g in &groups {
        assert!(g.end() <= 1 << 32);
        assert!(g.runs.iter().all(|r| r.size >= 1 && r.size <= MAX_SECTOR_SIZE));
    }
    assert!(groups.windows(2).all(|w| w[0].end() <= w[1].start as u64));
    // The first, the last and a few sectors between: found back by index and by address.
    for i in [0, n / 3, n / 2, n.saturating_sub(1)] {
        if let Some(s) = l.sector(i) {
            assert_eq!(l.sector_at(s.address), Some(s));
            assert_eq!(l.sector_at((s.end() - 1) as u32).map(|x| x.index), Some(i));
        }
    }
    assert_eq!(l.sectors().take(1000).count(), n.min(1000));
});
