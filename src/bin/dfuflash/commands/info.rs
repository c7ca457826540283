//! `dfuflash info`: a device's descriptors, alt settings and the memory layouts their names
//! describe.

use serde_json::{json, Value};

use dfuflash::layout::Layout;

use crate::args::InfoArgs;
use crate::hints;
use crate::open::open;

pub fn run(args: InfoArgs) -> Result<(), String> {
    let InfoArgs { device, json } = args;
    let o = open(&device, true).map_err(|e| hints::message(&e))?;
    let info = o.dfu.info().clone();
    let alts: Vec<Value> = info
        .alt_settings
        .iter()
        .map(|a| {
            let layout = Layout::parse(&a.name).ok();
            json!({
                "alt": a.alt,
                "name": a.name,
                "unusable": info.layout_problem(a).map(|e| e.to_string()),
                "layout": layout.map(|l| json!({
                    "name": l.name,
                    "groups": l.groups.iter().map(|g| json!({
                        "start": g.start,
                        "end": g.end(),
                        "runs": g.runs.iter().map(|r| json!({"count": r.count, "size": r.size, "perms": r.perms.to_string()})).collect::<Vec<_>>(),
                    })).collect::<Vec<_>>(),
                })),
            })
        })
        .collect();
    let f = info.functional;
    if json {
        println!(
            "{}",
            json!({
                "vendor_id": info.vendor_id, "product_id": info.product_id, "bcd_device": info.bcd_device,
                "manufacturer": info.manufacturer, "product": info.product, "serial": info.serial,
                "path": info.port_path, "mode": info.mode.to_string(), "dfu_version": f.dfu_version,
                "transfer_size": f.transfer_size, "attributes": f.attributes, "detach_timeout_ms": f.detach_timeout_ms,
                "incomplete": info.incomplete,
                "driver": info.driver, "driver_problem": info.driver_problem,
                "quirks": info.quirks,
                "alt_settings": alts,
            })
        );
    } else {
        println!(
            "{:04x}:{:04x} bcdDevice {:04x}  {} / {}  serial {}",
            info.vendor_id,
            info.product_id,
            info.bcd_device,
            info.manufacturer.as_deref().unwrap_or("?"),
            info.product.as_deref().unwrap_or("?"),
            info.serial.as_deref().unwrap_or("?")
        );
        println!(
            "path {}  mode {}  DFU {:x}.{:02x}  transfer size {}  attributes {:#04x}",
            info.port_path.as_deref().unwrap_or("?"),
            info.mode,
            f.dfu_version >> 8,
            f.dfu_version & 0xff,
            f.transfer_size,
            f.attributes
        );
        if let Some(why) = &info.incomplete {
            println!("incomplete: {why}");
        }
        if let Some(d) = &info.driver {
            println!("driver {d}");
        }
        for q in &info.quirks {
            println!("quirk {q}");
        }
        for a in &info.alt_settings {
            println!("alt {}: {:?}", a.alt, a.name);
            if let Some(e) = info.layout_problem(a) {
                println!("    unusable: {e}");
            }
            if let Ok(l) = Layout::parse(&a.name) {
                for g in &l.groups {
                    for r in &g.runs {
                        println!("    {} x {} bytes  {}", r.count, r.size, r.perms);
                    }
                    println!("    {:#010x}..{:#010x}", g.start, g.end());
                }
            }
        }
    }
    o.close()
}
