//! Writes a sample firmware image shaped like an OpenMV Cam H7 Plus firmware: a Cortex-M vector
//! table for 0x08040000 followed by deterministic pseudo-code, 1.8 MB by default, so it crosses
//! 0x08100000 where the STM32H7 Rev V ROM wedges.
//!
//! ```text
//! cargo run --release --example sample_image -- firmware.bin [SIZE_BYTES]
//! ```

#[path = "common/xorshift.rs"]
mod xorshift;

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: sample_image OUT.bin [SIZE_BYTES]");
        std::process::exit(2);
    };
    let size: usize = match args.next().map(|s| s.parse()) {
        None => 0x1c_0000 - 4096,
        Some(Ok(n)) if n >= 1024 => n,
        Some(_) => {
            eprintln!("SIZE_BYTES must be a number of at least 1024");
            std::process::exit(2);
        }
    };
    let mut fw = Vec::with_capacity(size);
    fw.extend_from_slice(&0x2408_0000u32.to_le_bytes()); // initial stack pointer (AXI SRAM end)
    for i in 1..16u32 {
        fw.extend_from_slice(&((0x0804_0400 + i * 4) | 1).to_le_bytes()); // thumb handlers
    }
    fw.extend(xorshift::pattern(
        size.saturating_sub(fw.len()),
        0x9e37_79b9,
    ));
    if let Err(e) = std::fs::write(&path, &fw) {
        eprintln!("cannot write {path}: {e}");
        std::process::exit(1);
    }
    eprintln!(
        "wrote {} bytes to {path} (flash it at 0x08040000)",
        fw.len()
    );
}
