//! Compiles the C clients with -Wall -Wextra -Werror and runs them against the cdylib:
//! plainly, under AddressSanitizer and UndefinedBehaviorSanitizer, and once under valgrind.
//! Linux only: the host's cc, the sanitizers and valgrind are Linux programs (the Windows stage
//! builds and runs the C clients with mingw-w64 under Wine instead).
#![cfg(not(windows))]

use std::path::{Path, PathBuf};
use std::process::Command;

use dfuflash::image::{dfuse, Image};
use dfuflash::sim::SimDevice;

mod common;

use common::model_list;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// target/<profile>/deps, where cargo built libdfuflash.so for this test run (the copy in
/// target/<profile> is refreshed only by a build that names the library, so it may be stale).
fn lib_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().to_path_buf();
    assert!(
        dir.join("libdfuflash.so").exists(),
        "no libdfuflash.so in {}",
        dir.display()
    );
    dir
}

fn work(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("dfuflash-capi-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn compile(src: &str, out: &Path, link_lib: bool, extra: &[&str]) {
    let lib = lib_dir();
    let cpp = src.ends_with(".cpp");
    let mut cmd = Command::new(if cpp { "c++" } else { "cc" });
    cmd.arg(if cpp { "-std=c++17" } else { "-std=c11" })
        .args([
            "-Wall",
            "-Wextra",
            "-Werror",
            "-g",
            "-D_POSIX_C_SOURCE=200809L",
        ])
        .arg(format!("-I{}", root().join("include").display()))
        .arg(format!("-I{}", root().join("bindings/cpp").display()))
        .arg(root().join(src))
        .args(extra)
        .arg("-o")
        .arg(out);
    if link_lib {
        cmd.arg(format!("-L{}", lib.display()))
            .arg("-ldfuflash")
            .arg(format!("-Wl,-rpath,{}", lib.display()));
    }
    cmd.args(["-lpthread", "-ldl"]);
    let o = cmd.output().expect("a C compiler (cc)");
    assert!(
        o.status.success(),
        "compiling {src} failed:\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

fn dfuse_file(dir: &Path) -> PathBuf {
    let data: Vec<u8> = (0..0x1c_0000u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let img = Image::from_binary(0x0804_0000, data).unwrap();
    let p = dir.join("fw.dfu");
    std::fs::write(&p, dfuse::write(&img, 0x0483, 0xdf11, 0xffff)).unwrap();
    p
}

const SANITIZERS: &[&str] = &[
    "-fsanitize=address,undefined",
    "-fno-sanitize-recover=all",
    "-fno-omit-frame-pointer",
];

const VALGRIND: &[&str] = &[
    "--error-exitcode=9",
    "--leak-check=full",
    "--errors-for-leak-kinds=definite,indirect",
    "--quiet",
];

fn run(cmd: &mut Command, what: &str) -> String {
    let out = succeed(cmd, what);
    assert!(out.contains(", 0 failed"), "{what}: {out}");
    out
}

/// Runs a client against the library just built; its stdout, once it exited 0.
fn succeed(cmd: &mut Command, what: &str) -> String {
    // cargo test puts target/<profile> first on LD_LIBRARY_PATH, ahead of the rpath: the
    // clients would load a stale libdfuflash.so from an earlier build of the library alone.
    let o = cmd.env("LD_LIBRARY_PATH", lib_dir()).output().unwrap();
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        o.status.success(),
        "{what} failed ({:?}):\n{out}\n{err}",
        o.status
    );
    out
}

/// The second file of test_api (the header's contract).
fn contract() -> String {
    root()
        .join("tests/c/test_api_contract.c")
        .display()
        .to_string()
}

#[test]
fn c_api_flashes_the_simulator_with_callbacks_cancellation_and_threads() {
    let dir = work("api");
    let exe = dir.join("test_api");
    compile("tests/c/test_api.c", &exe, true, &[&contract()]);
    let fw = dfuse_file(&dir);
    let out = run(Command::new(&exe).arg(&fw), "test_api");
    eprintln!("{out}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn c_api_is_clean_under_address_and_undefined_behaviour_sanitizers() {
    let dir = work("asan");
    let exe = dir.join("test_api_asan");
    compile(
        "tests/c/test_api.c",
        &exe,
        true,
        &[
            &contract(),
            "-fsanitize=address,undefined",
            "-fno-sanitize-recover=all",
            "-fno-omit-frame-pointer",
        ],
    );
    let fw = dfuse_file(&dir);
    run(
        Command::new(&exe)
            .arg(&fw)
            .env("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
            .env("UBSAN_OPTIONS", "print_stacktrace=1"),
        "test_api under ASan/UBSan",
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn c_api_is_clean_under_valgrind() {
    let dir = work("valgrind");
    let exe = dir.join("test_api_vg");
    compile("tests/c/test_api.c", &exe, true, &[&contract()]);
    let fw = dfuse_file(&dir);
    let out = run(
        Command::new("valgrind").args(VALGRIND).arg(&exe).arg(&fw),
        "test_api under valgrind",
    );
    eprintln!("{out}");
    std::fs::remove_dir_all(dir).unwrap();
}

/// A raw image for 0x08040000 and its SHA-256 and CRC-32 in hex, from the crates (not the
/// library's code that the test checks).
fn raw_file(dir: &Path) -> (PathBuf, String, String) {
    use sha2::{Digest, Sha256};
    let data: Vec<u8> = (0..300_001u32).map(|i| (i * 7 + i / 253) as u8).collect();
    let p = dir.join("fw.bin");
    std::fs::write(&p, &data).unwrap();
    let sha: String = Sha256::digest(&data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    (p, sha, format!("{:08x}", crc32fast::hash(&data)))
}

#[test]
fn structs_grow_old_and_new_callers_both_work_plainly_and_under_sanitizers() {
    let dir = work("grow");
    let (fw, sha, crc) = raw_file(&dir);
    for (name, flags) in [
        ("test_grow", &[][..]),
        (
            "test_grow_asan",
            &[
                "-fsanitize=address,undefined",
                "-fno-sanitize-recover=all",
                "-fno-omit-frame-pointer",
            ][..],
        ),
    ] {
        let exe = dir.join(name);
        compile("tests/c/test_grow.c", &exe, true, flags);
        let out = run(
            Command::new(&exe)
                .args([fw.as_os_str(), sha.as_ref(), crc.as_ref()])
                .env("ASAN_OPTIONS", "detect_leaks=1"),
            name,
        );
        eprintln!("{out}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_host_loads_the_library_with_dlopen_and_uses_the_api_table() {
    let dir = work("dlopen");
    let exe = dir.join("test_dlopen");
    compile("tests/c/test_dlopen.c", &exe, false, &[]);
    run(
        Command::new(&exe).arg(lib_dir().join("libdfuflash.so")),
        "test_dlopen",
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn the_c_example_builds_with_warnings_as_errors_and_flashes_the_simulator() {
    let dir = work("example");
    let exe = dir.join("dfuflash-example");
    compile("examples/c/dfuflash-example.c", &exe, true, &[]);
    let fw = dfuse_file(&dir);
    // The library this run built, not a stale one cargo's LD_LIBRARY_PATH puts first.
    let example = || {
        let mut c = Command::new(&exe);
        c.env("LD_LIBRARY_PATH", lib_dir());
        c
    };
    let o = example()
        .args(["flash", "--sim", "stm32h743-revv"])
        .arg(&fw)
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        out.contains("14 sector(s) erased, 1835008 bytes written, 1835008 bytes verified"),
        "{out}"
    );
    assert!(
        out.contains("recovery used for: 0x08100000 0x08120000"),
        "{out}"
    );
    // The record: the DfuSe file's image bytes are the ones dfuse_file made.
    let img = dfuflash::image::load(&fw, &Default::default()).unwrap().1;
    let data = &img.targets[0].segments[0].data;
    let sha: String = {
        use sha2::{Digest, Sha256};
        Sha256::digest(data)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    assert!(out.contains(&format!("alt 0 sha256 {sha}\n")), "{out}");
    assert!(
        out.contains(&format!(
            "segment 0x08040000, 1835008 bytes: crc32 {:08x}, read back equal",
            crc32fast::hash(data)
        )),
        "{out}"
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("  erase [========================================] 14/14 sectors"),
        "{err}"
    );
    let o = example().args(["list", "--sim"]).output().unwrap();
    assert!(String::from_utf8_lossy(&o.stdout).contains("0483:df11  sim:stm32h743-revv"));
    let o = example()
        .args(["flash", "--sim", "nosuch"])
        .arg(&fw)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("unknown simulator model"));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn the_cpp_wrapper_flashes_a_dfuse_image_and_an_n6_layout_and_contains_a_throwing_callback() {
    let dir = work("cpp");
    let exe = dir.join("test_cpp");
    compile("tests/c/test_cpp.cpp", &exe, true, &[]);
    // With OpenMV's N6 layout to flash (issue 25): the NOR is checked here.
    let f = common::n6::openmv("cpp", 2 * 4096 + 9);
    let state = f.dir.join("n6.state");
    run(Command::new(&exe).arg(&f.dir).arg(&state), "test_cpp");
    let dev = SimDevice::with_state("stm32n6", &state).unwrap();
    assert_eq!(dev.n6().unwrap().nor(0, f.app.len()), f.app);
    std::fs::remove_dir_all(dir).unwrap();
    std::fs::remove_dir_all(&f.dir).unwrap();
}

/// Random flash/cancel/close interleavings from several threads (tests/c/test_lifecycle.c).
/// `require_every`: fail unless some trials ended in success, in cancellation and with the
/// handle closed first (the timing of a plain run makes all three happen).
fn lifecycle_stress(
    name: &str,
    flags: &[&str],
    iterations: &str,
    wrapper: &[&str],
    env: &[(&str, &str)],
    require_every: bool,
) {
    let dir = work(name);
    let exe = dir.join("test_lifecycle");
    compile("tests/c/test_lifecycle.c", &exe, true, flags);
    let mut cmd = match wrapper.split_first() {
        Some((program, args)) => {
            let mut c = Command::new(program);
            c.args(args).arg(&exe);
            c
        }
        None => Command::new(&exe),
    };
    cmd.args([iterations, "0x5eed"]).envs(env.iter().copied());
    if require_every {
        cmd.arg("--require-every-outcome");
    }
    let out = run(&mut cmd, &format!("test_lifecycle ({name})"));
    eprintln!("{out}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn close_cancel_and_flash_race_safely_from_several_threads() {
    lifecycle_stress("lifecycle", &[], "2000", &[], &[], true);
}

#[test]
fn the_lifecycle_stress_is_clean_under_address_and_undefined_behaviour_sanitizers() {
    lifecycle_stress(
        "lifecycle-asan",
        &[
            "-fsanitize=address,undefined",
            "-fno-sanitize-recover=all",
            "-fno-omit-frame-pointer",
        ],
        "1000",
        &[],
        &[("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")],
        false,
    );
}

// The client's calls are checked; what the library does inside is valgrind's (tsan.supp says why).
const TSAN_OPTIONS: &str = concat!(
    "halt_on_error=1:suppressions=",
    env!("CARGO_MANIFEST_DIR"),
    "/tests/c/tsan.supp"
);

#[test]
fn the_lifecycle_stress_is_clean_under_thread_sanitizer() {
    lifecycle_stress(
        "lifecycle-tsan",
        &["-fsanitize=thread", "-fno-omit-frame-pointer"],
        "1000",
        &[],
        &[("TSAN_OPTIONS", TSAN_OPTIONS)],
        false,
    );
}

#[test]
fn the_lifecycle_stress_is_clean_under_valgrind() {
    // valgrind checks the library's own memory accesses too, which the sanitizers (applied to
    // the C side only: the library is built by stable Rust) do not see.
    lifecycle_stress(
        "lifecycle-valgrind",
        &[],
        "60",
        &[
            "valgrind",
            "--error-exitcode=9",
            "--leak-check=full",
            "--errors-for-leak-kinds=definite,indirect",
            "--quiet",
        ],
        &[],
        false,
    );
}

#[test]
fn every_model_of_issue_19_flashes_through_the_c_api() {
    let dir = work("models");
    let exe = dir.join("test_models");
    compile("tests/c/test_models.c", &exe, true, &[]);
    for &(model, alt, address, len) in model_list::EVERY_NEW_MODEL {
        let data: Vec<u8> = (0..len as u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 11) as u8 ^ alt)
            .collect();
        let fw = dir.join(format!("{model}.bin"));
        std::fs::write(&fw, &data).unwrap();
        let state = dir.join(format!("{model}.state"));
        let mut cmd = Command::new(&exe);
        cmd.args([model, &state.to_string_lossy(), &alt.to_string()])
            .arg(&fw);
        // A DFU 1.1 slot's image is raw bytes from offset 0.
        cmd.arg(format!("{:x}", address.unwrap_or(0)));
        let out = run(&mut cmd, model);
        let verified = model_list::verified(model, len);
        // The report says why a device that cannot upload was not verified.
        let why = match verified {
            0 => ", unverified: the device cannot upload (bitCanUpload is clear)",
            _ => "",
        };
        assert!(
            out.contains(&format!(
                "{model}: {len} bytes written, {verified} verified{why}\n"
            )),
            "{out}"
        );
        let dev = SimDevice::with_state(model, &state).unwrap();
        match address {
            Some(a) => assert_eq!(dev.memory(alt, a, len).unwrap(), &data[..], "{model}"),
            None => assert_eq!(dev.firmware_of(alt), &data[..], "{model}"),
        }
    }
    std::fs::remove_dir_all(dir).unwrap();
}

/// Issue 26: the example that does what OpenMV IDE's bootloader dialog does (firmware, ROMFS,
/// reset), by alt setting name, on the simulated H7 Plus: the bytes in both partitions and
/// progress totals that are the images' sizes.
#[test]
fn the_openmv_example_flashes_firmware_and_romfs_by_name_then_resets() {
    let dir = work("openmv-example");
    let exe = dir.join("openmv-update");
    compile("examples/c/openmv-update.c", &exe, true, &[]);
    let fw: Vec<u8> = (0..300_000u32).map(|i| ((i * 7) >> 3) as u8).collect();
    let romfs: Vec<u8> = (0..70_000u32).map(|i| ((i * 13) >> 2) as u8).collect();
    std::fs::write(dir.join("firmware.bin"), &fw).unwrap();
    std::fs::write(dir.join("romfs.img"), &romfs).unwrap();
    let state = dir.join("h7p.state");
    let out = succeed(
        Command::new(&exe)
            .args(["--sim", "openmv-h7p", "--sim-state"])
            .arg(&state)
            .arg(dir.join("firmware.bin"))
            .arg(dir.join("romfs.img")),
        "openmv-update",
    );
    assert_eq!(
        out,
        "FIRMWARE (alt 2): 300000 bytes written, 300000 verified; progress write 300000/300000, verify 300000/300000\n\
         ROMFS0 (alt 4): 70000 bytes written, 70000 verified; progress write 70000/70000, verify 70000/70000\n\
         reset: the camera runs its new firmware\n"
    );
    let dev = SimDevice::with_state("openmv-h7p", &state).unwrap();
    assert_eq!(&dev.partition(2).unwrap()[..fw.len()], &fw[..]);
    assert_eq!(&dev.partition(4).unwrap()[..romfs.len()], &romfs[..]);
    std::fs::remove_dir_all(dir).unwrap();
}

/// Issue 26: every OpenMV model flashed through the C API on its firmware partition.
#[test]
fn every_openmv_model_flashes_through_the_c_api() {
    let dir = work("openmv-models");
    let exe = dir.join("test_models");
    compile("tests/c/test_models.c", &exe, true, &[]);
    for (model, alt) in [
        ("openmv-h7", 2u8),
        ("openmv-h7p", 2),
        ("openmv-n6", 1),
        ("openmv-ae3", 1),
    ] {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i >> 3) as u8 ^ alt).collect();
        let fw = dir.join(format!("{model}.bin"));
        std::fs::write(&fw, &data).unwrap();
        let state = dir.join(format!("{model}.state"));
        let out = run(
            Command::new(&exe)
                .args([model, &state.to_string_lossy(), &alt.to_string()])
                .arg(&fw)
                .arg("0"),
            model,
        );
        assert!(
            out.contains(&format!("{model}: 100000 bytes written, 100000 verified\n")),
            "{out}"
        );
        let dev = SimDevice::with_state(model, &state).unwrap();
        assert_eq!(
            &dev.partition(alt).unwrap()[..data.len()],
            &data[..],
            "{model}"
        );
    }
    std::fs::remove_dir_all(dir).unwrap();
}

/// Issue 25: OpenMV's N6 layout flashed through dfuflash_flash_layout (tests/c/test_layout.c):
/// the report's phases and partitions are the files' own sizes and CRCs, the NOR holds the
/// bootloader, and the refusals (NULL pointers, a bad TSV by line and column, a missing binary,
/// the ROM's phase 0xFF) carry their codes and messages.
#[test]
fn a_flash_layout_through_the_c_api_writes_the_n6_nor_and_reports_every_partition() {
    let f = common::n6::openmv("c-api", 3 * 4096 + 17);
    let state = f.dir.join("n6.state");
    let asan = f.dir.join("test_layout_asan");
    compile("tests/c/test_layout.c", &asan, true, SANITIZERS);
    let mut cmd = Command::new(&asan);
    cmd.arg(&f.dir).arg(f.dir.join("asan.state"));
    run(
        cmd.env("ASAN_OPTIONS", "detect_leaks=1"),
        "test_layout under ASan/UBSan",
    );
    let exe = f.dir.join("test_layout");
    compile("tests/c/test_layout.c", &exe, true, &[]);
    let mut cmd = Command::new(&exe);
    cmd.arg(&f.dir).arg(&state);
    let out = run(&mut cmd, "test_layout");
    let mut vg = Command::new("valgrind");
    vg.args(VALGRIND)
        .arg(&exe)
        .arg(&f.dir)
        .arg(f.dir.join("vg.state"));
    run(&mut vg, "test_layout under valgrind");
    let crc = crc32fast::hash;
    let expected = format!(
        "phases: 01 00 00 00 03 03 04 04 fe\n\
         reenumerations 1, 3 partitions\n\
         write totals: {} {} {} {}\n\
         partition fsbl-openbl id 0x01: {} bytes, crc32 {:08x} (yes), read back no, 1 download(s) to alt 0\n\
         partition fsbl-extfl id 0x03: 7880 bytes, crc32 {:08x} (yes), read back no, 1 download(s) to alt 1\n\
         partition fsbl-app id 0x04: {} bytes, crc32 {:08x} (yes), read back no, 1 download(s) to alt 2\n",
        f.obl.len(),
        dfuflash::flashlayout::header::V1_LEN + common::n6::load(&f.dir).device_text().len(),
        f.loader.len(),
        f.app.len(),
        f.obl.len(),
        crc(&f.obl),
        crc(&f.loader),
        f.app.len(),
        crc(&f.app),
    );
    assert!(out.starts_with(&expected), "{out}");
    let dev = SimDevice::with_state("stm32n6", &state).unwrap();
    let n6 = dev.n6().unwrap();
    assert_eq!(n6.nor(0, f.app.len() + 1)[..f.app.len()], f.app[..]);
    assert_eq!(n6.nor(f.app.len() as u32, 1), [0xff]);
    std::fs::remove_dir_all(&f.dir).unwrap();
}
