//! The models of issue 19 and an image for each: (model, alt, address of a raw image or None
//! for a DFU 1.1 image, bytes). tests/models.rs flashes them with `dfuflash flash`,
//! tests/c_api.rs through the C API.

pub const EVERY_NEW_MODEL: &[(&str, u8, Option<u32>, usize)] = &[
    ("stm32f7", 0, Some(0x0800_0000), 300_000),
    ("stm32g4", 0, Some(0x0800_0000), 100_000),
    ("stm32h7a3", 0, Some(0x0800_0000), 300_000),
    ("at32f4", 0, Some(0x0800_0000), 100_000),
    ("apm32f4", 0, Some(0x0800_0000), 300_000),
    ("gd32vf103", 0, Some(0x0800_0000), 100_000),
    ("esp32s2", 0, None, 100_000),
    ("zephyr-dfu", 1, None, 100_000),
    ("tinyusb-dfu", 0, None, 100_000),
    ("bogus-poll", 1, None, 100_000),
];

/// The bytes a flash of `len` bytes verifies on `model`: none where it cannot upload.
pub fn verified(model: &str, len: usize) -> usize {
    let info = dfuflash::sim::SimDevice::describe(model).unwrap();
    if info.functional.can_upload() {
        len
    } else {
        0
    }
}
