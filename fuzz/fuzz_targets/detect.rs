#![no_main]
//! Content detection plus every reader, raw included, as `dfuflash flash` runs them.
use dfuflash::image::{parse, LoadOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut o = LoadOptions::default();
    o.address = data.first().map(|b| (*b as u32) << 24);
    let _ = parse(data, "fuzz.hex", &o);
    if let Ok((_, img)) = parse(data, "fuzz", &LoadOptions::default()) {
        assert!(img.len() <= data.len() as u64);
    }
});
