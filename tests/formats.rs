//! File formats against independent producers and checkers (Debian's dfu-util and binutils,
//! which scripts/test.sh installs), plus round trips.

use std::path::{Path, PathBuf};
use std::process::Command;

mod common;
use common::pattern;

use dfuflash::image::{self, dfuse, suffix, Format, Image, LoadOptions, Segment, Suffix, Target};

struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Self {
        let p = std::env::temp_dir().join(format!("dfuflash-fmt-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Dir(p)
    }
    fn file(&self, name: &str, data: &[u8]) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, data).unwrap();
        p
    }
    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
    /// Runs a tool in this directory; it must succeed.
    /// `objcopy -I binary` of fw.bin into `out` in `format`, its data at `addr`.
    fn objcopy_binary(&self, format: &str, addr: &str, out: &str) {
        self.run(
            "objcopy",
            &[
                "-I",
                "binary",
                "-O",
                format,
                "--change-addresses",
                addr,
                "fw.bin",
                out,
            ],
        );
    }
    fn run(&self, tool: &str, args: &[&str]) -> String {
        let out = Command::new(tool)
            .args(args)
            .current_dir(&self.0)
            .output()
            .unwrap_or_else(|e| panic!("{tool} is required (scripts/test.sh installs it): {e}"));
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "{tool} {args:?} failed:\n{text}");
        text
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn load(p: &Path) -> (Format, Image) {
    image::load(p, &LoadOptions::default()).unwrap_or_else(|e| panic!("{e}"))
}

fn seg(img: &Image, t: usize, s: usize) -> (u32, &[u8]) {
    let x = &img.targets[t].segments[s];
    (x.address, &x.data[..])
}

#[test]
#[cfg_attr(windows, ignore = "runs dfuse-pack, Linux programs from Debian")]
fn dfuse_pack_files_with_several_elements_and_targets_parse_to_the_same_bytes() {
    let d = Dir::new("dfusepack");
    let a = pattern(5000, 1);
    let b = pattern(777, 2);
    let c = pattern(16, 3);
    d.file("a.bin", &a);
    d.file("b.bin", &b);
    d.file("c.bin", &c);
    d.run(
        "dfuse-pack",
        &[
            "-b",
            "0x08000000:a.bin",
            "-b",
            "0x08010000:b.bin",
            "-b",
            "0x1FFFC000@1:c.bin",
            "-D",
            "0x0483:0xdf11",
            "out.dfu",
        ],
    );
    let (f, img) = load(&d.path("out.dfu"));
    assert_eq!(f, Format::Dfuse);
    assert_eq!(img.targets.len(), 2);
    assert_eq!((img.targets[0].alt, img.targets[1].alt), (0, 1));
    assert_eq!(seg(&img, 0, 0), (0x0800_0000, &a[..]));
    assert_eq!(seg(&img, 0, 1), (0x0801_0000, &b[..]));
    assert_eq!(seg(&img, 1, 0), (0x1fff_c000, &c[..]));
    let s = img.suffix.unwrap();
    assert_eq!(
        (s.vendor_id, s.product_id, s.bcd_dfu),
        (0x0483, 0xdf11, 0x011a)
    );
    assert!(
        s.matches(0x0483, 0xdf11, 0x0200),
        "dfuse-pack's bcdDevice 0 means unset"
    );
}

#[test]
#[cfg_attr(windows, ignore = "runs dfu-suffix, Linux programs from Debian")]
fn dfu_suffix_files_carry_their_ids_and_the_payload() {
    let d = Dir::new("dfusuffix");
    let fw = pattern(3000, 4);
    d.file("fw.bin", &fw);
    d.run(
        "dfu-suffix",
        &["-v", "0483", "-p", "df11", "-d", "0x2200", "-a", "fw.bin"],
    );
    let mut o = LoadOptions::default();
    o.address = Some(0x0800_0000);
    let (f, img) = image::load(&d.path("fw.bin"), &o).unwrap();
    assert_eq!(f, Format::Raw);
    assert_eq!(seg(&img, 0, 0), (0x0800_0000, &fw[..]));
    assert_eq!(
        img.suffix,
        Some(Suffix {
            bcd_device: 0x2200,
            product_id: 0xdf11,
            vendor_id: 0x0483,
            bcd_dfu: 0x0100
        })
    );
    // A flipped payload byte is caught by the CRC.
    let mut bytes = std::fs::read(d.path("fw.bin")).unwrap();
    bytes[100] ^= 0x40;
    let e = image::parse(&bytes, "fw.bin", &o).unwrap_err().to_string();
    assert!(e.starts_with("fw.bin: DFU suffix CRC expected 0x"), "{e}");
}

#[test]
#[cfg_attr(windows, ignore = "runs objcopy, Linux programs from Debian")]
fn objcopy_hex_with_segment_and_linear_addresses_parses_to_the_same_bytes() {
    let d = Dir::new("ihex");
    let fw = pattern(100_000, 5);
    d.file("fw.bin", &fw);
    for (addr, kinds) in [("0x1F000", ["02", "03"]), ("0x08000000", ["04", "05"])] {
        d.objcopy_binary("ihex", addr, "fw.hex");
        let text = std::fs::read_to_string(d.path("fw.hex")).unwrap();
        for k in kinds {
            assert!(
                text.lines().any(|l| &l[7..9] == k),
                "objcopy wrote no type {k} record"
            );
        }
        let (f, img) = load(&d.path("fw.hex"));
        assert_eq!(f, Format::IntelHex);
        assert_eq!(img.targets[0].segments.len(), 1);
        assert_eq!(
            seg(&img, 0, 0),
            (u32::from_str_radix(&addr[2..], 16).unwrap(), &fw[..])
        );
    }
}

#[test]
#[cfg_attr(windows, ignore = "runs objcopy, Linux programs from Debian")]
fn objcopy_srec_s2_and_s3_parse_to_the_same_bytes() {
    let d = Dir::new("srec");
    let fw = pattern(70_000, 6);
    d.file("fw.bin", &fw);
    for (addr, kind) in [("0x1000", "S2"), ("0x08000000", "S3")] {
        d.objcopy_binary("srec", addr, "fw.srec");
        let text = std::fs::read_to_string(d.path("fw.srec")).unwrap();
        assert!(text.lines().any(|l| l.starts_with(kind)));
        let (f, img) = load(&d.path("fw.srec"));
        assert_eq!(f, Format::Srec);
        assert_eq!(
            seg(&img, 0, 0),
            (u32::from_str_radix(&addr[2..], 16).unwrap(), &fw[..])
        );
    }
}

#[test]
#[cfg_attr(windows, ignore = "runs ld and objcopy, Linux programs from Debian")]
fn elf_segments_load_at_their_physical_address_and_nobits_is_skipped() {
    let d = Dir::new("elf");
    let fw = pattern(40_000, 7);
    d.file("fw.bin", &fw);
    // A linked executable whose data runs at 0x20000000 but is stored at 0x08004000, with .bss.
    d.file("link.ld", b"SECTIONS {\n . = 0x20000000;\n .data : AT(0x08004000) { *(.data) }\n .bss (NOLOAD) : { . = . + 0x1000; }\n}\n");
    d.run(
        "ld",
        &[
            "-T",
            "link.ld",
            "--oformat",
            "elf64-x86-64",
            "-b",
            "binary",
            "fw.bin",
            "-o",
            "fw.elf",
        ],
    );
    let (f, img) = load(&d.path("fw.elf"));
    assert_eq!(f, Format::Elf);
    assert_eq!(img.targets[0].segments.len(), 1);
    assert_eq!(seg(&img, 0, 0), (0x0800_4000, &fw[..]));
    // A 32-bit relocatable object (no program headers): its allocated section.
    d.objcopy_binary("elf32-i386", "0x08000000", "fw.o");
    let (_, img) = load(&d.path("fw.o"));
    assert_eq!(seg(&img, 0, 0), (0x0800_0000, &fw[..]));
}

#[test]
#[cfg_attr(
    windows,
    ignore = "runs dfuse-pack and dfu-suffix, Linux programs from Debian"
)]
fn files_dfuflash_writes_are_accepted_by_dfuse_pack_and_dfu_suffix() {
    let d = Dir::new("writers");
    let a = pattern(4000, 8);
    let b = pattern(123, 9);
    let img = Image::new(vec![
        Target {
            alt: 0,
            name: Some("Internal Flash".into()),
            segments: vec![
                Segment::new(0x0800_0000, a.clone()),
                Segment::new(0x0802_0000, b.clone()),
            ],
        },
        Target {
            alt: 2,
            name: None,
            segments: vec![Segment::new(0x1fff_7800, b.clone())],
        },
    ])
    .unwrap();
    let file = dfuse::write(&img, 0x0483, 0xdf11, 0xffff);
    d.file("ours.dfu", &file);
    let dump = d.run("dfuse-pack", &["-d", "ours.dfu"]);
    assert!(!dump.contains("ERROR"), "{dump}");
    assert!(dump.contains("usb: 0483:df11"), "{dump}");
    for (t, e, data) in [(0, 0, &a), (0, 1, &b), (1, 0, &b)] {
        let p = d.path(&format!("ours.dfu.target{t}.image{e}.bin"));
        assert_eq!(&std::fs::read(p).unwrap(), data, "target {t} element {e}");
    }
    let (_, back) = load(&d.path("ours.dfu"));
    assert_eq!(back.targets, img.targets);

    let s = Suffix {
        bcd_device: 0x0200,
        product_id: 0xdf11,
        vendor_id: 0x0483,
        bcd_dfu: 0x0100,
    };
    d.file("fw.dfu", &suffix::append(&a, &s));
    let out = d.run("dfu-suffix", &["-c", "fw.dfu"]);
    assert!(
        out.contains("0483") && out.to_lowercase().contains("df11"),
        "{out}"
    );
    d.run("dfu-suffix", &["-D", "fw.dfu"]);
    assert_eq!(
        std::fs::read(d.path("fw.dfu")).unwrap(),
        a,
        "dfu-suffix removes exactly our suffix"
    );
}

#[test]
fn errors_name_the_file_the_place_and_what_was_expected() {
    let o = LoadOptions::default();
    let err = |data: &[u8], name: &str| image::parse(data, name, &o).unwrap_err().to_string();
    let img = Image::new(vec![Target {
        alt: 0,
        name: None,
        segments: vec![
            Segment::new(0x0800_0000, vec![1; 64]),
            Segment::new(0x0800_1000, vec![2; 8]),
        ],
    }])
    .unwrap();
    let good = dfuse::write(&img, 0x0483, 0xdf11, 0xffff);
    // Element 1 claims more bytes than the target holds; fix the CRC so the structure is reached.
    let mut bad = good[..good.len() - 16].to_vec();
    let e1 = 11 + 274 + 8 + 64;
    bad[e1 + 4..e1 + 8].copy_from_slice(&100u32.to_le_bytes());
    let bad = suffix::append(
        &bad,
        &Suffix {
            bcd_device: 0xffff,
            product_id: 0xdf11,
            vendor_id: 0x0483,
            bcd_dfu: 0x011a,
        },
    );
    assert_eq!(
        err(&bad, "x.dfu"),
        format!(
            "x.dfu: truncated element 1 of target 0 at offset {}: needs 100 bytes, 8 remain",
            e1 + 8
        )
    );
    let mut crc = good.clone();
    let n = crc.len();
    crc[n - 1] ^= 0xff;
    assert!(err(&crc, "x.dfu").starts_with("x.dfu: DFU suffix CRC expected 0x"));
    assert_eq!(
        err(
            b":0400000001020304F2\n:0400040001020304FF\n:00000001FF\n",
            "a.hex"
        ),
        "a.hex: line 2: HEX checksum expected 0xee, found 0xff"
    );
    assert_eq!(
        err(b":0400000001020304F2\n", "a.hex"),
        "a.hex: line 0: no end-of-file record (type 01): the file is truncated"
    );
    assert_eq!(
        err(
            b":0400000001020304F2\n:0400020001020304F0\n:00000001FF\n",
            "a.hex"
        ),
        "a.hex: overlapping segments at 0x00000002"
    );
    assert!(err(b"S107100001020304DE\n", "a.srec").contains("no termination record"));
    assert!(
        err(b"S107100001020304DF\nS9031000EC\n", "a.srec").starts_with("a.srec: line 1: S-record")
    );
    assert_eq!(
        err(b"\x7fELF\x01\x01\x01", "a.elf"),
        "a.elf: invalid ELF file: not a 32- or 64-bit ELF file"
    );
    // Library messages name no command-line flag: the command adds its own.
    assert_eq!(
        err(&[1, 2, 3], "fw.bin"),
        "fw.bin is a raw binary: give the address it goes to"
    );
    assert_eq!(
        err(b"", "fw.bin"),
        "fw.bin is empty: it holds no data to write"
    );
    assert_eq!(
        err(b"", "fw.hex"),
        "fw.hex is empty: it holds no data to write"
    );
    let mut with_addr = LoadOptions::default();
    with_addr.address = Some(0);
    assert_eq!(
        image::parse(b":0400000001020304F2\n:00000001FF\n", "a.hex", &with_addr)
            .unwrap_err()
            .to_string(),
        "a.hex is a ihex file with its own addresses; an address applies to raw binaries only"
    );
}

fn same_or_err(
    name: &str,
    original: &Image,
    r: Result<(Format, Image), image::FormatError>,
    what: &str,
) {
    if let Ok((_, img)) = r {
        assert_eq!(
            img.targets, original.targets,
            "{name}: {what} parsed to something else"
        );
    }
}

/// Every truncation and single-byte corruption is rejected with a specific error, or parses
/// to exactly what the file says.
#[test]
#[cfg_attr(windows, ignore = "runs objcopy, Linux programs from Debian")]
fn mutations_are_rejected_or_parse_to_exactly_what_the_file_says() {
    let data = pattern(300, 10);
    let base = Image::new(vec![Target {
        alt: 0,
        name: Some("f".into()),
        segments: vec![
            Segment::new(0x0800_0000, data[..200].to_vec()),
            Segment::new(0x0801_0000, data[200..].to_vec()),
        ],
    }])
    .unwrap();
    let o = LoadOptions::default();

    // DfuSe: the suffix CRC covers every byte, so every mutation must be rejected.
    let file = dfuse::write(&base, 0x0483, 0xdf11, 0xffff);
    for n in 0..file.len() {
        assert!(
            image::parse(&file[..n], "m.dfu", &o).is_err(),
            "truncation to {n} accepted"
        );
    }
    for i in 0..file.len() {
        for x in [0x01u8, 0x80, 0xff] {
            let mut m = file.clone();
            m[i] ^= x;
            assert!(
                image::parse(&m, "m.dfu", &o).is_err(),
                "corruption at {i} ^ {x:#x} accepted"
            );
        }
    }

    // Intel HEX: the record checksum covers everything but ':' and the line breaks.
    let d = Dir::new("mut");
    d.file("fw.bin", &data);
    d.objcopy_binary("ihex", "0x08000000", "fw.hex");
    let hex = std::fs::read(d.path("fw.hex")).unwrap();
    let (_, hex_img) = image::parse(&hex, "m.hex", &o).unwrap();
    for n in 0..hex.len() {
        same_or_err(
            "hex",
            &hex_img,
            image::parse(&hex[..n], "m.hex", &o),
            &format!("truncation to {n}"),
        );
    }
    for i in 0..hex.len() {
        for x in [0x01u8, 0x20, 0x80] {
            let mut m = hex.clone();
            m[i] ^= x;
            same_or_err(
                "hex",
                &hex_img,
                image::parse(&m, "m.hex", &o),
                &format!("corruption at {i}"),
            );
        }
    }

    // S-records: the checksum covers all but the type digit; a changed type reinterprets the
    // record, which is what the file then says: the result must be that reinterpretation.
    d.objcopy_binary("srec", "0x08000000", "fw.srec");
    let sr = std::fs::read(d.path("fw.srec")).unwrap();
    let (_, sr_img) = image::parse(&sr, "m.srec", &o).unwrap();
    for n in 0..sr.len() {
        same_or_err(
            "srec",
            &sr_img,
            image::parse(&sr[..n], "m.srec", &o),
            &format!("truncation to {n}"),
        );
    }
    let type_digits: Vec<usize> = (1..sr.len())
        .filter(|&i| sr[i - 1] == b'S' && (i == 1 || sr[i - 2] == b'\n'))
        .collect();
    for i in 0..sr.len() {
        for x in [0x01u8, 0x02, 0x20, 0x80] {
            let mut m = sr.clone();
            m[i] ^= x;
            let r = image::parse(&m, "m.srec", &o);
            if type_digits.contains(&i) {
                // Whatever the retyped record now says, it says in hex digits: no more data
                // bytes than half the text.
                if let Ok((_, img)) = r {
                    assert!(img.len() <= m.len() as u64 / 2, "retyped record at {i}");
                }
            } else {
                same_or_err("srec", &sr_img, r, &format!("corruption at {i}"));
            }
        }
    }

    // Raw with a suffix: the CRC catches corruption; a truncation that cuts the suffix leaves
    // a raw file without one, which is what it then is.
    let raw = suffix::append(
        &data,
        &Suffix {
            bcd_device: 0xffff,
            product_id: 0xffff,
            vendor_id: 0xffff,
            bcd_dfu: 0x0100,
        },
    );
    let mut ro = LoadOptions::default();
    ro.address = Some(0x0800_0000);
    for i in 0..raw.len() {
        let mut m = raw.clone();
        m[i] ^= 0x01;
        match image::parse(&m, "m.bin", &ro) {
            // Without its "UFD" signature the file is a plain raw binary of all its bytes.
            Ok((_, img)) if (308..311).contains(&i) => {
                assert_eq!(img.targets[0].segments[0].data, m)
            }
            Ok(_) => panic!("corruption at {i} accepted"),
            Err(_) => {}
        }
    }
    for n in 1..raw.len() {
        match image::parse(&raw[..n], "m.bin", &ro) {
            Ok((_, img)) => {
                assert!(img.suffix.is_none());
                assert_eq!(img.targets[0].segments[0].data, &raw[..n]);
            }
            Err(e) => panic!("truncation to {n}: {e}"),
        }
    }

    // ELF: no checksum. A byte of loaded data changes exactly that byte; anything else is
    // rejected or parses within the file's own size.
    d.objcopy_binary("elf32-i386", "0x08000000", "fw.o");
    let elf = std::fs::read(d.path("fw.o")).unwrap();
    let (_, elf_img) = image::parse(&elf, "m.elf", &o).unwrap();
    let at = elf
        .windows(data.len())
        .position(|w| w == &data[..])
        .unwrap();
    for n in 0..elf.len() {
        if let Ok((_, img)) = image::parse(&elf[..n], "m.elf", &o) {
            assert!(img.len() <= n as u64);
        }
    }
    for i in 0..elf.len() {
        let mut m = elf.clone();
        m[i] ^= 0x01;
        match image::parse(&m, "m.elf", &o) {
            Ok((_, img)) if (at..at + data.len()).contains(&i) => {
                let mut expect = elf_img.clone();
                expect.targets[0].segments[0].data[i - at] ^= 0x01;
                assert_eq!(img.targets, expect.targets);
            }
            Ok((_, img)) => assert!(img.len() <= elf.len() as u64),
            Err(_) => {}
        }
    }
}

/// Inputs the fuzzers once crashed on (fuzz/regressions): each is rejected without a panic.
#[test]
fn fuzz_regressions_are_rejected_without_panicking() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions");
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let data = std::fs::read(entry.unwrap().path()).unwrap();
        for name in ["r.elf", "r.srec", "r.hex", "r.dfu", "r"] {
            if let Ok((_, img)) = image::parse(&data, name, &LoadOptions::default()) {
                assert!(img.len() <= data.len() as u64);
            }
        }
        assert!(image::srec::read(&data, "r").is_err() || image::elf::read(&data, "r").is_err());
        n += 1;
    }
    assert!(n >= 3);
}

#[test]
fn detection_is_by_content_and_raw_binaries_that_start_like_text_stay_raw() {
    let mut o = LoadOptions::default();
    o.address = Some(0x0800_0000);
    // First bytes ':' and "S1", then binary: raw, whatever the name.
    for data in [
        b":\x10\x00\x00\xff\xfe".to_vec(),
        b"S1\x80\x81\x00".to_vec(),
    ] {
        for name in ["fw", "fw.hex", "fw.srec"] {
            let (f, img) = image::parse(&data, name, &o).unwrap();
            assert_eq!(f, Format::Raw, "{name}");
            assert_eq!(img.targets[0].segments[0].data, data);
        }
    }
    // Real records are found by content, whatever the extension says, except .bin.
    let hex = b":0400000001020304F2\n:00000001FF\n";
    assert_eq!(
        image::parse(hex, "fw.txt", &LoadOptions::default())
            .unwrap()
            .0,
        Format::IntelHex
    );
    assert_eq!(
        image::parse(hex, "fw.bin", &o).unwrap().0,
        Format::Raw,
        ".bin breaks the tie"
    );
    let srec = b"S107100001020304DE\nS9031000EC\n";
    assert_eq!(
        image::parse(srec, "fw.mot", &LoadOptions::default())
            .unwrap()
            .0,
        Format::Srec
    );
}
