//! Writes DIR/FlashLayout.tsv shaped as OpenMV's for the STM32N6 (three rows: ST's
//! OpenBootloader, the NOR external loader, OpenMV's bootloader at NOR offset 0; seven columns,
//! no final line feed), with stand-in binaries of the same sizes: the FSBL's v2.3 header is one
//! the simulated ROM accepts. ST's binaries are not ours to ship.
//!
//! ```text
//! cargo run --release --example n6_layout -- DIR
//! dfuflash flash-layout --sim stm32n6 DIR/FlashLayout.tsv
//! ```

#[path = "common/xorshift.rs"]
mod xorshift;

use dfuflash::flashlayout::header;

// Sizes of OpenMV's files (ST-SERIAL-BOOT.md A6): the OBL's payload after its 0x240-byte header,
// the loader, and a bootloader of a plausible size.
const OBL_PAYLOAD: usize = 0xa100;
const LOADER: usize = 7880;
const BOOTLOADER: usize = 96 * 1024;

fn main() {
    let Some(dir) = std::env::args().nth(1) else {
        eprintln!("usage: n6_layout DIR");
        std::process::exit(2);
    };
    let dir = std::path::PathBuf::from(dir);
    let write = |name: &str, bytes: &[u8]| {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap_or_else(|e| {
            eprintln!("cannot write {}: {e}", p.display());
            std::process::exit(1);
        });
    };
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("cannot create {}: {e}", dir.display());
        std::process::exit(1);
    }
    // Zeros up to the vector table at 0x400 of the file, as in OpenMV's OBL, then code.
    let mut obl = vec![0u8; 0x400 - header::V2_LEN];
    obl.extend(xorshift::pattern(OBL_PAYLOAD - obl.len(), 0x0b1));
    write(
        "OpenBootloader_STM32N6570-DK-trusted.stm32",
        &header::fsbl_v2_3(&obl, 0x3418_9da1),
    );
    write(
        "MX66UW1G45G_STM32N6570-DK-OBL.bin",
        &xorshift::pattern(LOADER, 0x10ad),
    );
    write("bootloader.bin", &xorshift::pattern(BOOTLOADER, 0xb007));
    let tsv = "#Opt\tId\tName\tType\tIP\tOffset\tBinary\n\
               P\t0x1\tfsbl-openbl\tBinary\tnone\t0x0\tOpenBootloader_STM32N6570-DK-trusted.stm32\n\
               P\t0x3\tfsbl-extfl\tBinary\tnone\t0x0\tMX66UW1G45G_STM32N6570-DK-OBL.bin\n\
               P\t0x4\tfsbl-app\tBinary\tnor0\t0x0000000\tbootloader.bin";
    write("FlashLayout.tsv", tsv.as_bytes());
    println!("{}", dir.join("FlashLayout.tsv").display());
}
