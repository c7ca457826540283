//! `dfuflash inspect`: a file's format, targets, segments and DFU suffix, as text or JSON
//! (`pack` prints what it wrote the same way).

use serde_json::{json, Value};

use dfuflash::image::{self, Format, Image, LoadOptions};

use crate::args::InspectArgs;
use crate::hints;

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
    json!({
        "format": format.map(Format::name),
        "bytes": img.len(),
        "targets": img.targets.iter().map(|t| json!({
            "alt": t.alt,
            "name": t.name,
            "segments": t.segments.iter().map(|s| json!({"address": s.address, "size": s.data.len(), "end": s.end()})).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "suffix": img.suffix.map(|s| json!({"vendor_id": s.vendor_id, "product_id": s.product_id, "bcd_device": s.bcd_device, "bcd_dfu": s.bcd_dfu})),
    })
}

pub fn print_image(format: Option<Format>, img: &Image) {
    if let Some(f) = format {
        println!("format: {}", f.name());
    }
    for t in &img.targets {
        println!(
            "target alt {}{}: {} bytes in {} segment(s)",
            t.alt,
            t.name
                .as_ref()
                .map(|n| format!(" {n:?}"))
                .unwrap_or_default(),
            t.len(),
            t.segments.len()
        );
        for s in &t.segments {
            println!(
                "    {:#010x}..{:#010x}  {} bytes",
                s.address,
                s.end(),
                s.data.len()
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
