#![no_main]
//! The elf reader never panics, and what it accepts holds no more bytes than the input can.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(img) = dfuflash::image::elf::read(data, "fuzz") {
        assert!(img.len() <= data.len() as u64);
        for t in &img.targets {
            assert!(t.segments.windows(2).all(|w| w[0].end() < w[1].address as u64 + 1));
        }
    }
});
