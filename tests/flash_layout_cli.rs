//! `dfuflash flash-layout`, run as a user runs it, against the simulated STM32N6.

mod common;

use common::cli::{dfuflash, stderr};
use common::n6::{load, openmv, write_tsv};

#[test]
fn the_command_reports_partitions_and_phases_as_json() {
    let f = openmv("cli", 5000);
    let tsv = f.dir.join("FlashLayout.tsv");
    let log = f.dir.join("records.jsonl");
    let o = dfuflash(&[
        "flash-layout",
        "--sim",
        "stm32n6",
        "--json",
        "--log",
        log.to_str().unwrap(),
        tsv.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["ok"], true);
    assert_eq!(
        v["phases"],
        serde_json::json!([1, 0, 0, 0, 3, 3, 4, 4, 254])
    );
    assert_eq!(v["partitions"][2]["name"], "fsbl-app");
    assert_eq!(v["partitions"][2]["bytes"], 5000);
    let crc = format!("{:08x}", crc32fast::hash(&f.app));
    assert_eq!(v["partitions"][2]["crc32"], crc.as_str());
    // The N6 reads no partition back: the key is there, and null.
    for p in v["partitions"].as_array().unwrap() {
        assert_eq!(p["readback_crc32"], serde_json::Value::Null, "{p}");
        assert!(p.as_object().unwrap().contains_key("readback_crc32"));
    }
    let kept = std::fs::read_to_string(&log).unwrap();
    assert!(kept.contains(&crc) && kept.ends_with("}\n"), "{kept}");

    write_tsv(&f.dir, "P\t0x1\tfsbl\tBinary\tnone\t0\n");
    let o = dfuflash(&[
        "flash-layout",
        "--sim",
        "stm32n6",
        "--json",
        tsv.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["error_kind"], "file_format");
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .contains("FlashLayout.tsv:1: 6 columns"),
        "{v}"
    );
    assert_eq!(v["requests"], 0);
}

#[test]
fn the_command_s_events_name_each_partition_before_its_write_phase() {
    let f = openmv("events", 3000);
    let tsv = f.dir.join("FlashLayout.tsv");
    let o = dfuflash(&[
        "flash-layout",
        "--sim",
        "stm32n6",
        "--events",
        "json",
        tsv.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let events: Vec<serde_json::Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let steps: Vec<String> = events
        .iter()
        .filter_map(|e| match e["event"].as_str()? {
            "phase" => Some(format!("write {}", e["total"])),
            "log" if e["message"].as_str()?.starts_with("partition ") => {
                Some(e["message"].as_str()?.split(" (").next()?.to_string())
            }
            "result" => Some(format!("result {}", e["report"]["phases"])),
            _ => None,
        })
        .collect();
    let layout_len = 256 + load(&f.dir).device_text().len();
    assert_eq!(
        steps,
        [
            "partition fsbl-openbl".to_string(),
            format!("write {}", f.obl.len()),
            "partition FlashLayout".into(),
            format!("write {layout_len}"),
            "partition fsbl-extfl".into(),
            "write 7880".into(),
            "partition fsbl-app".into(),
            "write 3000".into(),
            "result [1,0,0,0,3,3,4,4,254]".into(),
        ]
    );
}
