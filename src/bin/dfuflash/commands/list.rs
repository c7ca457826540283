//! `dfuflash list`: the USB DFU devices present, and with `--simulated` the simulator's models.

use serde_json::{json, Value};

use dfuflash::device;
use dfuflash::sim::SimDevice;

use crate::args::ListArgs;

pub fn run(args: ListArgs) -> Result<(), String> {
    let ListArgs { simulated, json } = args;
    let real = device::list(false).map_err(|e| e.to_string())?;
    if let Some(problem) = device::usb_problem() {
        eprintln!("dfuflash: warning: cannot list USB devices: {problem}");
    }
    let devices: Vec<Value> = real
        .iter()
        .map(|e| {
            let i = &e.info;
            json!({
                "vendor_id": i.vendor_id, "product_id": i.product_id, "bcd_device": i.bcd_device,
                "manufacturer": i.manufacturer, "product": i.product, "serial": i.serial,
                "path": i.port_path, "interface": i.interface, "mode": i.mode.to_string(),
                "dfu_version": i.functional.dfu_version, "transfer_size": i.functional.transfer_size,
                "attributes": i.functional.attributes, "incomplete": i.incomplete,
                "driver": i.driver, "driver_problem": i.driver_problem,
                "quirks": i.quirks,
                "alt_settings": i.alt_settings.iter().map(|a| json!({
                    "alt": a.alt, "name": a.name,
                    "unusable": i.layout_problem(a).map(|e| e.to_string()),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let models: Vec<Value> = SimDevice::models()
        .iter()
        .map(|m| json!({"model": m.name, "vendor_id": m.vendor_id, "product_id": m.product_id, "product": m.product, "description": m.description}))
        .collect();
    if json {
        let mut out = json!({ "devices": devices });
        if simulated {
            out["simulated"] = Value::from(models);
        }
        println!("{out}");
    } else {
        if real.is_empty() {
            println!("no USB DFU devices found");
        }
        for e in &real {
            let i = &e.info;
            println!(
                "{:04x}:{:04x} path {} serial {} ({} mode, DFU {:x}.{:02x}, transfer size {}) {}",
                i.vendor_id,
                i.product_id,
                i.port_path.as_deref().unwrap_or("?"),
                i.serial.as_deref().unwrap_or("?"),
                i.mode,
                i.functional.dfu_version >> 8,
                i.functional.dfu_version & 0xff,
                i.functional.transfer_size,
                i.product.as_deref().unwrap_or("")
            );
            if let Some(why) = &i.incomplete {
                println!("    incomplete: {why}");
            }
            match (&i.driver, &i.driver_problem) {
                (_, Some(problem)) => println!("    driver: cannot be opened: it is {problem}"),
                (Some(d), None) => println!("    driver: {d}"),
                (None, None) => {}
            }
            for q in &i.quirks {
                println!("    quirk {q}");
            }
            for a in &i.alt_settings {
                match i.layout_problem(a) {
                    Some(e) => println!("    alt {}: {:?}  unusable: {e}", a.alt, a.name),
                    None => println!("    alt {}: {:?}", a.alt, a.name),
                }
            }
        }
        if !simulated {
            return Ok(());
        }
        println!("simulated devices (use --sim MODEL):");
        for m in SimDevice::models() {
            println!(
                "  sim:{:<16} {:04x}:{:04x}  {}",
                m.name, m.vendor_id, m.product_id, m.description
            );
        }
    }
    Ok(())
}
