#![no_main]
//! Splitting a suffix never panics; an accepted suffix round-trips through the writer.
use dfuflash::image::suffix;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok((payload, Some(s))) = suffix::split(data, "fuzz") {
        assert_eq!(suffix::append(payload, &s), data);
    }
});
