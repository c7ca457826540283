//! Parse time and peak memory of a 2 MB image in every file format.
//!
//! ```text
//! cargo run --release --example format_bench
//! ```
//!
//! The inputs are made here (the DfuSe file with dfuflash's writer, the text formats and the
//! ELF by small generators below), held in memory, and parsed with `dfuflash::image::parse`.
//! Peak memory is the most heap the parse itself held at once, counted by a global allocator,
//! not counting the input buffer the caller already had. Goal: under 20 ms and under 3x the
//! image size.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant};

use dfuflash::image::{dfuse, parse, suffix, Image, LoadOptions, Suffix};

struct Counting;
static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let p = System.alloc(l);
        if !p.is_null() {
            let now = CURRENT.fetch_add(l.size(), Relaxed) + l.size();
            PEAK.fetch_max(now, Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        System.dealloc(p, l);
        CURRENT.fetch_sub(l.size(), Relaxed);
    }
}

#[global_allocator]
static A: Counting = Counting;

const BASE: u32 = 0x0800_0000;
const SIZE: usize = 2 * 1024 * 1024;

#[path = "common/xorshift.rs"]
mod xorshift;

fn firmware() -> Vec<u8> {
    xorshift::pattern(SIZE, 0x2545_f491)
}

fn ihex(data: &[u8]) -> Vec<u8> {
    let mut out = String::with_capacity(data.len() * 3);
    let rec = |out: &mut String, t: u8, addr: u16, bytes: &[u8]| {
        let mut sum = bytes.len() as u8;
        sum = sum
            .wrapping_add((addr >> 8) as u8)
            .wrapping_add(addr as u8)
            .wrapping_add(t);
        out.push_str(&format!(":{:02X}{addr:04X}{t:02X}", bytes.len()));
        for b in bytes {
            sum = sum.wrapping_add(*b);
            out.push_str(&format!("{b:02X}"));
        }
        out.push_str(&format!("{:02X}\n", sum.wrapping_neg()));
    };
    for (i, chunk) in data.chunks(16).enumerate() {
        let a = BASE + (i * 16) as u32;
        if i == 0 || a & 0xffff == 0 {
            rec(&mut out, 4, 0, &((a >> 16) as u16).to_be_bytes());
        }
        rec(&mut out, 0, a as u16, chunk);
    }
    rec(&mut out, 1, 0, &[]);
    out.into_bytes()
}

fn srec(data: &[u8]) -> Vec<u8> {
    let mut out = String::from("S00600004844521B\n");
    for (i, chunk) in data.chunks(16).enumerate() {
        let a = BASE + (i * 16) as u32;
        let count = (chunk.len() + 5) as u8;
        let mut sum = count;
        out.push_str(&format!("S3{count:02X}{a:08X}"));
        for b in a.to_be_bytes().iter().chain(chunk) {
            sum = sum.wrapping_add(*b);
        }
        for b in chunk {
            out.push_str(&format!("{b:02X}"));
        }
        out.push_str(&format!("{:02X}\n", !sum));
    }
    out.push_str("S70508000000F2\n");
    out.into_bytes()
}

/// A minimal 32-bit little-endian ELF executable with one PT_LOAD segment.
fn elf(data: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(data.len() + 84);
    let h16 = |f: &mut Vec<u8>, v: u16| f.extend_from_slice(&v.to_le_bytes());
    let h32 = |f: &mut Vec<u8>, v: u32| f.extend_from_slice(&v.to_le_bytes());
    f.extend_from_slice(b"\x7fELF\x01\x01\x01\0\0\0\0\0\0\0\0\0");
    h16(&mut f, 2); // ET_EXEC
    h16(&mut f, 40); // EM_ARM
    h32(&mut f, 1);
    h32(&mut f, BASE); // entry
    h32(&mut f, 52); // phoff
    h32(&mut f, 0); // shoff
    h32(&mut f, 0x0500_0000);
    h16(&mut f, 52);
    h16(&mut f, 32);
    h16(&mut f, 1);
    h16(&mut f, 40);
    h16(&mut f, 0);
    h16(&mut f, 0);
    for v in [
        1,
        84,
        BASE,
        BASE,
        data.len() as u32,
        data.len() as u32,
        5,
        4,
    ] {
        h32(&mut f, v); // PT_LOAD, offset, vaddr, paddr, filesz, memsz, flags, align
    }
    f.extend_from_slice(data);
    f
}

fn main() {
    let fw = firmware();
    let image = Image::from_binary(BASE, fw.clone()).unwrap();
    let ids = Suffix {
        bcd_device: 0xffff,
        product_id: 0xdf11,
        vendor_id: 0x0483,
        bcd_dfu: 0x0100,
    };
    let inputs: Vec<(&str, Vec<u8>, Option<u32>)> = vec![
        ("dfuse", dfuse::write(&image, 0x0483, 0xdf11, 0xffff), None),
        ("ihex", ihex(&fw), None),
        ("srec", srec(&fw), None),
        ("elf", elf(&fw), None),
        ("raw", fw.clone(), Some(BASE)),
        ("raw+suffix", suffix::append(&fw, &ids), Some(BASE)),
    ];
    println!(
        "{:<11} {:>10} {:>10} {:>9} {:>9} {:>12} {:>7}",
        "format", "file B", "image B", "min ms", "med ms", "peak heap B", "peak/x"
    );
    for (name, file, address) in &inputs {
        let mut o = LoadOptions::default();
        o.address = *address;
        let mut times = Vec::new();
        let mut peak = 0;
        for _ in 0..15 {
            let base = CURRENT.load(Relaxed);
            PEAK.store(base, Relaxed);
            let t = Instant::now();
            let (_, img) = parse(file, "bench", &o).expect("parses");
            times.push(t.elapsed());
            peak = PEAK.load(Relaxed) - base;
            assert_eq!(img.targets[0].segments[0].data, fw);
        }
        times.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        println!(
            "{:<11} {:>10} {:>10} {:>9.2} {:>9.2} {:>12} {:>7.2}",
            name,
            file.len(),
            fw.len(),
            ms(times[0]),
            ms(times[times.len() / 2]),
            peak,
            peak as f64 / fw.len() as f64
        );
    }
}
