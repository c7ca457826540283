//! ST's STM32 image header: the v1 (256-byte) header the layout upload carries, and the v2.3
//! FSBL header the STM32N6 ROM checks.
//!
//! Offsets of v1 from U-Boot's stm32prog and snagboot (ST-SERIAL-BOOT.md A5); of v2.3 as measured
//! in OpenMV's `OpenBootloader_STM32N6570-DK-trusted.stm32` (A6).

/// `STM2`.
pub const MAGIC: [u8; 4] = *b"STM2";
/// The v1 header's size.
pub const V1_LEN: usize = 256;
/// v2.3's header: 0xA0 bytes, then a 0x1A0-byte padding extension (OpenMV's file).
pub const V2_LEN: usize = 0x240;
/// v2.3's version word.
pub const V2_3: u32 = 0x0002_0300;
/// The most the N6 ROM loads: 511 KB (A6, from BF/KR).
pub const N6_MAX_PAYLOAD: usize = 511 * 1024;

const V2_CHECKSUM: usize = 0x64;
const V2_VERSION: usize = 0x68;
const V2_LENGTH: usize = 0x6c;
const V2_ENTRY: usize = 0x70;
const V2_LOAD: usize = 0x78;
// Assumption: the extension flags word follows version_number at 0x80.
const V2_EXT_FLAGS: usize = 0x84;

fn word(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// The byte sum ST's headers carry as their checksum.
pub fn byte_sum(b: &[u8]) -> u32 {
    b.iter().fold(0u32, |s, &x| s.wrapping_add(x as u32))
}

/// Why a v2 FSBL header is refused, as the ROM checks it (magic, version, length, checksum).
pub fn check_fsbl(image: &[u8]) -> Result<(), String> {
    if image.len() < 0xa0 || image[..4] != MAGIC {
        return Err("no STM2 magic at offset 0".into());
    }
    let version = word(image, V2_VERSION);
    if version >> 16 != 2 {
        return Err(format!("header version {version:#010x} is not 2.x"));
    }
    let len = word(image, V2_LENGTH) as usize;
    // Assumption: the header is v2.3's 0x240 bytes (ST's tool without -align), so the payload
    // is exactly what follows it.
    if len > N6_MAX_PAYLOAD || V2_LEN + len != image.len() {
        return Err(format!(
            "length {len:#x} does not match the {} bytes sent after the {V2_LEN:#x}-byte header",
            image.len()
        ));
    }
    let payload = &image[image.len() - len..];
    let (want, got) = (word(image, V2_CHECKSUM), byte_sum(payload));
    if want != got {
        return Err(format!(
            "checksum {want:#010x}, payload sums to {got:#010x}"
        ));
    }
    Ok(())
}

/// A v2.3 FSBL image around `payload`, shaped as ST's signing tool makes an unsigned one
/// (`-nk -of 0x80000000 -hv 2.3`): for stand-ins, not ST's binaries.
pub fn fsbl_v2_3(payload: &[u8], entry: u32) -> Vec<u8> {
    let mut h = vec![0u8; V2_LEN];
    h[..4].copy_from_slice(&MAGIC);
    let mut put = |at: usize, v: u32| h[at..at + 4].copy_from_slice(&v.to_le_bytes());
    put(V2_CHECKSUM, byte_sum(payload));
    put(V2_VERSION, V2_3);
    put(V2_LENGTH, payload.len() as u32);
    put(V2_ENTRY, entry);
    put(V2_LOAD, 0xffff_ffff);
    put(V2_EXT_FLAGS, 0x8000_0000);
    h.extend_from_slice(payload);
    h
}

/// The v1 header before a layout upload (the OpenBootloader skips it, U-Boot checks its
/// checksum): magic, checksum at 0x44, version 0x00010000, length, option flags bit0 (unsigned).
pub fn layout_v1(payload: &[u8]) -> Vec<u8> {
    let mut h = vec![0u8; V1_LEN];
    h[..4].copy_from_slice(&MAGIC);
    let mut put = |at: usize, v: u32| h[at..at + 4].copy_from_slice(&v.to_le_bytes());
    put(0x44, byte_sum(payload));
    put(0x48, 0x0001_0000);
    put(0x4c, payload.len() as u32);
    put(0x64, 1);
    h.extend_from_slice(payload);
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_built_fsbl_passes_and_each_broken_field_is_named() {
        let good = fsbl_v2_3(&[1, 2, 3, 250], 0x3418_0401);
        assert_eq!(good.len(), V2_LEN + 4);
        check_fsbl(&good).unwrap();
        let mut bad = good.clone();
        bad[0] = b'X';
        assert!(check_fsbl(&bad).unwrap_err().contains("magic"));
        let mut bad = good.clone();
        *bad.last_mut().unwrap() ^= 1;
        assert!(check_fsbl(&bad).unwrap_err().contains("checksum"));
        let mut bad = good.clone();
        bad[V2_LENGTH] = 0xff;
        assert!(check_fsbl(&bad).unwrap_err().contains("length"));
        assert!(check_fsbl(&good[..10]).is_err());
    }
}
