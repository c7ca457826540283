#![no_main]
//! The descriptors and replies a device sends: the functional descriptor found in a run of
//! descriptors, and the 6-byte GETSTATUS reply. Never a panic; what parses round-trips.
use dfuflash::protocol::StatusReply;
use dfuflash::transport::FunctionalDescriptor;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(fd) = FunctionalDescriptor::find(data) {
        if fd.dfu_version != 0x0100 {
            assert_eq!(FunctionalDescriptor::parse(&fd.to_bytes()), Some(fd));
        }
    }
    let _ = FunctionalDescriptor::parse(data);
    if let Some(r) = StatusReply::parse(data) {
        assert_eq!(&r.to_bytes()[..], data);
    }
});
