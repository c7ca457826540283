//! The committed C header is what cbindgen generates from src/ffi/ today.
//! `DFUFLASH_UPDATE_HEADER=1 cargo test --test header` rewrites it.

// Its dependency is not built for ARM (Cargo.toml says why).
#![cfg(not(any(target_arch = "arm", target_arch = "aarch64")))]

#[test]
#[cfg_attr(
    windows,
    ignore = "cbindgen runs `cargo metadata`, a Linux program that Wine cannot start"
)]
fn committed_header_matches_the_code() {
    let root = env!("CARGO_MANIFEST_DIR");
    let config = cbindgen::Config::from_file(format!("{root}/cbindgen.toml")).unwrap();
    let mut generated = Vec::new();
    cbindgen::Builder::new()
        .with_crate(root)
        .with_config(config)
        .generate()
        .expect("cbindgen generates the header")
        .write(&mut generated);
    let path = format!("{root}/include/dfuflash.h");
    if std::env::var_os("DFUFLASH_UPDATE_HEADER").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "include/dfuflash.h is stale: regenerate it with DFUFLASH_UPDATE_HEADER=1 cargo test --test header"
    );
}

/// A client may define its own macros: every one of ours carries the library's prefix.
#[test]
fn every_macro_in_the_header_carries_the_prefix() {
    let header = include_str!("../include/dfuflash.h");
    let unprefixed: Vec<&str> = header
        .lines()
        .filter_map(|l| l.strip_prefix("#define "))
        .filter(|name| !name.starts_with("DFUFLASH_"))
        .collect();
    assert!(unprefixed.is_empty(), "unprefixed macros: {unprefixed:?}");
}
