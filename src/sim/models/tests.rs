//! The model table's own checks.

use super::*;

#[test]
fn usb_cost_counts_packets_per_frame() {
    assert_eq!(usb_cost(0), Duration::from_micros(500));
    // 1024 bytes = 16 packets = 16/13 ms.
    assert_eq!(
        usb_cost(1024),
        Duration::from_micros(500) + Duration::from_nanos(1_230_769)
    );
}

#[test]
fn every_dfuse_model_layout_parses_and_names_are_unique() {
    let mut names = std::collections::BTreeSet::new();
    for m in MODELS {
        assert!(names.insert(m.name));
        if m.dialect == Dialect::StRom {
            for a in m.alts {
                crate::layout::Layout::parse(a).unwrap();
            }
        }
    }
    assert_eq!(
        find("stm32f405").unwrap().timing.erase_time(64 * 1024),
        Duration::from_millis(550)
    );
}
