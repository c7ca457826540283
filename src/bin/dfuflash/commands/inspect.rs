//! `dfuflash inspect`: a file's format, targets, segments and DFU suffix, as text or JSON
//! (`pack` prints what it wrote the same way), with the digests a flash's record gives: each
//! target's SHA-256 and each segment's CRC-32, so a record can be matched to a release.

use serde_json::{json, Value};

use dfuflash::image::digest::{self, SegmentDigest};
use dfuflash::image::{self, Format, Image, LoadOptions, Segment};

use crate::args::InspectArgs;
use crate::hints;
use crate::report::crc_hex;

pub fn run(args: InspectArgs) -> Result<(), String> {
    let InspectArgs {
        address,
        json,
        file,
    } = args;
    let mut lopts = LoadOptions::default();
    lopts.address = address;
    let (format, img) = image::load(&file, &lopts).map_err(|e| hints::message(&e.into()))?;
    if json {
        println!("{}", describe_image(Some(format), &img));
    } else {
        print_image(Some(format), &img);
    }
    Ok(())
}

pub fn describe_image(format: Option<Format>, img: &Image) -> Value {
    let digests = digest::targets(img);
    let crcs = digest::segments(img);
    json!({
        "format": format.map(Format::name),
        "bytes": img.len(),
        "targets": img.targets.iter().zip(&digests).map(|(t, d)| json!({
            "alt": t.alt,
            "name": t.name,
            "sha256": digest::hex(&d.sha256),
            "segments": t.segments.iter().map(|s| json!({
                "address": s.address,
                "size": s.data.len(),
                "end": s.end(),
                "crc32": crc_of(&crcs, t.alt, s),
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "suffix": img.suffix.map(|s| json!({"vendor_id": s.vendor_id, "product_id": s.product_id, "bcd_device": s.bcd_device, "bcd_dfu": s.bcd_dfu})),
    })
}

pub fn print_image(format: Option<Format>, img: &Image) {
    if let Some(f) = format {
        println!("format: {}", f.name());
    }
    let crcs = digest::segments(img);
    for (t, d) in img.targets.iter().zip(digest::targets(img)) {
        println!(
            "target alt {}{}: {} bytes in {} segment(s), sha256 {}",
            t.alt,
            t.name
                .as_ref()
                .map(|n| format!(" {n:?}"))
                .unwrap_or_default(),
            t.len(),
            t.segments.len(),
            digest::hex(&d.sha256)
        );
        for s in &t.segments {
            println!(
                "    {:#010x}..{:#010x}  {} bytes  crc32 {}",
                s.address,
                s.end(),
                s.data.len(),
                crc_of(&crcs, t.alt, s)
            );
        }
    }
    match img.suffix {
        Some(s) => println!(
            "suffix: {:04x}:{:04x} bcdDevice {:04x} bcdDFU {:04x}",
            s.vendor_id, s.product_id, s.bcd_device, s.bcd_dfu
        ),
        None => println!("suffix: none"),
    }
}

/// Each segment's CRC-32, by alt setting and address.
fn crc_of(crcs: &[SegmentDigest], alt: u8, s: &Segment) -> String {
    crcs.iter()
        .find(|d| d.alt == alt && d.address == s.address)
        .map(|d| crc_hex(d.crc32))
        .unwrap_or_default()
}
