//! The command on firmware files: `pack` and `inspect` of a DfuSe file, flashing it with its
//! suffix checked, and `suffix` add, check and remove.

use std::path::PathBuf;

mod common;

use common::cli::{dfuflash, json, stderr, write_fw};

fn tmp(name: &str) -> PathBuf {
    common::cli::tmp("cli-files", name)
}

#[test]
fn pack_inspect_and_flash_a_dfuse_file_with_its_suffix_checked() {
    let dir = tmp("pack");
    let (fw, data) = write_fw(&dir, 0x1c_0000);
    let out = dir.join("fw.dfu");
    let input = format!("0x08040000:{}", fw.display());
    let o = dfuflash(&[
        "pack",
        "-D",
        "0483:df11",
        "-o",
        out.to_str().unwrap(),
        "--json",
        &input,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v = json(&o);
    assert_eq!(v["format"], "dfuse");
    assert_eq!(v["targets"][0]["segments"][0]["address"], 0x0804_0000);
    assert_eq!(v["targets"][0]["segments"][0]["size"], data.len());
    let o = dfuflash(&["inspect", "--json", out.to_str().unwrap()]);
    assert_eq!(json(&o)["suffix"]["vendor_id"], 0x0483);

    let o = dfuflash(&[
        "flash",
        "--sim",
        "stm32h743-revv",
        "--json",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v = json(&o);
    assert_eq!(v["bytes_verified"], data.len());
    assert_eq!(v["workaround_sectors"].as_array().unwrap().len(), 8);

    // The same file on a device its suffix does not name: refused before any request.
    let o = dfuflash(&[
        "flash",
        "--sim",
        "dfu11-generic",
        "--json",
        out.to_str().unwrap(),
    ]);
    let v = json(&o);
    assert_eq!(v["error_kind"], "suffix_mismatch");
    assert_eq!(v["requests"], 0);
    assert!(stderr(&o).contains("is for 0483:df11"), "{}", stderr(&o));
    let o = dfuflash(&[
        "flash",
        "--sim",
        "stm32h743-revv",
        "--address",
        "0x08000000",
        out.to_str().unwrap(),
    ]);
    assert!(
        stderr(&o).contains("--address applies to raw binaries only"),
        "{}",
        stderr(&o)
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn suffix_add_check_remove_round_trip() {
    let dir = tmp("suffix");
    let (fw, data) = write_fw(&dir, 5000);
    let f = fw.to_str().unwrap();
    assert!(dfuflash(&[
        "suffix",
        "add",
        "-D",
        "0483:df11",
        "--bcd-device",
        "2200",
        f
    ])
    .status
    .success());
    let o = dfuflash(&["suffix", "check", f]);
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("suffix ok: 0483:df11 bcdDevice 2200"),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    let o = dfuflash(&["suffix", "add", f]);
    assert!(stderr(&o).contains("already has a DFU suffix"));
    // A raw file with a suffix flashes with its ids checked against the device.
    let o = dfuflash(&[
        "flash",
        "--sim",
        "stm32l4",
        "--address",
        "0x08000000",
        "--json",
        f,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(dfuflash(&["suffix", "remove", f]).status.success());
    assert_eq!(std::fs::read(&fw).unwrap(), data);
    std::fs::remove_dir_all(dir).unwrap();
}
