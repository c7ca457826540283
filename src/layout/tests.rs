//! The layout grammar against real strings, malformed ones and device-sized numbers.

use super::*;

#[test]
fn parses_every_real_string_from_the_protocol_notes() {
    let cases: &[(&str, &str, u32, u64, usize)] = &[
        (
            "@Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg",
            "Internal Flash",
            0x0800_0000,
            1024 * 1024,
            12,
        ),
        (
            "@Option Bytes  /0x1FFFC000/01*016 g",
            "Option Bytes",
            0x1fff_c000,
            16,
            1,
        ),
        (
            "@OTP Memory /0x1FFF7800/01*512 g,01*016 g",
            "OTP Memory",
            0x1fff_7800,
            528,
            2,
        ),
        (
            "@Device Feature/0xFFFF0000/01*004 g",
            "Device Feature",
            0xffff_0000,
            4,
            1,
        ),
        (
            "@Internal Flash   /0x08000000/16*128Kg",
            "Internal Flash",
            0x0800_0000,
            2 * 1024 * 1024,
            16,
        ),
        (
            "@Option Bytes   /0x5200201C/01*128 e",
            "Option Bytes",
            0x5200_201c,
            128,
            1,
        ),
        (
            "@OTP Memory   /0x08FFF000/01*1024 e",
            "OTP Memory",
            0x08ff_f000,
            1024,
            1,
        ),
        (
            "@Internal Flash   /0x08000000/256*08Kg",
            "Internal Flash",
            0x0800_0000,
            2 * 1024 * 1024,
            256,
        ),
        (
            "@Internal Flash   /0x08000000/256*02Kg",
            "Internal Flash",
            0x0800_0000,
            512 * 1024,
            256,
        ),
        (
            "@Internal Flash /0x08000000/04*032Kg,01*128Kg,03*256Kg",
            "Internal Flash",
            0x0800_0000,
            1024 * 1024,
            8,
        ),
    ];
    for (text, name, start, size, sectors) in cases {
        let l = Layout::parse(text).unwrap();
        assert_eq!(&l.name, name, "{text}");
        assert_eq!(l.groups[0].start, *start, "{text}");
        assert_eq!(l.total_size(), *size, "{text}");
        assert_eq!(l.sectors().count(), *sectors, "{text}");
    }
}

#[test]
fn several_address_groups_keep_their_own_addresses_and_sector_sizes() {
    let l =
        Layout::parse("@Flash /0x90000000/64*4Kg/0x90040000/60*64Kg/0x90400000/60*64Kg").unwrap();
    assert_eq!(l.groups.len(), 3);
    let s = l.sector_at(0x9004_1234).unwrap();
    assert_eq!((s.index, s.address, s.size), (64, 0x9004_0000, 64 * 1024));
    let s = l.sector_at(0x9040_0000).unwrap();
    assert_eq!((s.index, s.address), (124, 0x9040_0000));
    assert_eq!(l.sector_at(0x903f_ffff).unwrap().index, 123);
    assert!(l.sector_at(0x907c_0000).is_none());
    let g = Layout::parse("@Option Bytes   /0x1FFF7800/01*048 e/0x1FFFF800/01*048 e").unwrap();
    assert_eq!(g.groups[1].start, 0x1fff_f800);
    assert!(!g.sector_at(0x1fff_f800).unwrap().perms.erasable());
    assert!(g.sector_at(0x1fff_f800).unwrap().perms.writable());
}

#[test]
fn sector_lookup_follows_mixed_sizes_at_their_boundaries() {
    let l = Layout::parse("@Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg").unwrap();
    let at = |a| l.sector_at(a).map(|s| (s.index, s.address));
    assert_eq!(at(0x0800_0000), Some((0, 0x0800_0000)));
    assert_eq!(at(0x0800_ffff), Some((3, 0x0800_c000)));
    assert_eq!(at(0x0801_0000), Some((4, 0x0801_0000)));
    assert_eq!(at(0x0802_0000), Some((5, 0x0802_0000)));
    assert_eq!(at(0x080f_ffff), Some((11, 0x080e_0000)));
    assert_eq!(at(0x0810_0000), None);
    assert_eq!(at(0x07ff_ffff), None);
    assert_eq!(l.sectors().nth(11).unwrap().address, 0x080e_0000);
}

#[test]
fn malformed_strings_name_the_offending_byte() {
    let err = |t: &str| Layout::parse(t).unwrap_err().to_string();
    assert!(err("Internal Flash").contains("does not start with '@'"));
    assert!(err("@Flash /0x0800000G/04*016Kg").contains("hexadecimal address"));
    assert!(
        err("@Flash /0x08000000/04x016Kg").contains("expected '*'"),
        "{}",
        err("@Flash /0x08000000/04x016Kg")
    );
    assert!(
        err("@Flash /0x08000000/04*016Kz").contains("memory type letter a..g at byte 26"),
        "{}",
        err("@Flash /0x08000000/04*016Kz")
    );
    let label = Layout::parse("@MCUboot        v.25   /0x00000000/0*4Kg").unwrap();
    assert_eq!(
        (label.name.as_str(), label.sectors().count()),
        ("MCUboot        v.25", 0)
    );
    assert_eq!(label.sector_at(0), None);
    assert!(err("@Flash /0xFFFF0000/02*064Kg").contains("past 4 GiB"));
    assert!(err("@Flash").contains("expected '/0xADDR/'"));
    assert!(err("@Flash /0x08000000").contains("expected sector runs"));
}

#[test]
fn overlapping_groups_are_refused_naming_both() {
    let e = Layout::parse("@Flash/0x08000000/2*1Kg/0x08000400/1*4Kg").unwrap_err();
    let text = e.to_string();
    assert!(matches!(e, LayoutError::Overlap { .. }), "{text}");
    assert!(
        text.contains(
            "groups \"0x08000000/2*1Kg\" (0x08000000..0x08000800) and \"0x08000400/1*4Kg\" (0x08000400..0x08001400) overlap"
        ),
        "{text}"
    );
    // Listed out of order, the overlap is still found (an Overlap naming the lower group
    // first, as in order); groups that only touch are fine.
    let e = Layout::parse("@F/0x08001000/1*4Kg/0x08000000/2*4Kg");
    assert!(
        matches!(&e, Err(LayoutError::Overlap { first, second, .. })
            if first.starts_with("\"0x08000000/2*4Kg\"")
                && second.starts_with("\"0x08001000/1*4Kg\"")),
        "{e:?}"
    );
    assert!(Layout::parse("@F/0x08002000/1*4Kg/0x08000000/2*4Kg").is_ok());
    // A group of no sectors (a label) overlaps nothing.
    assert!(Layout::parse("@F/0x08000000/2*4Kg/0x08000000/0*4Kg").is_ok());
}

#[test]
fn device_sized_numbers_are_bounded_when_parsed() {
    let err = |t: &str| Layout::parse(t).unwrap_err().to_string();
    // 4 G sectors of one byte: fits below 4 GiB but no device has that many sectors.
    assert!(err("@F/0x0/4294967295*1Bg").contains("the most is 1048576"));
    // Products and sums that would wrap in 64 bits.
    assert!(err("@x/0x0/4294967295*4294967295Bg,2*4294967295Bg,1*2Bg")
        .contains("sectors of 4294967295 bytes"));
    assert!(err("@x/0x0/1*4095Mg").contains("the most is 268435456"));
    assert!(err("@x/0x0/4096*256Mg").contains("ends past 4 GiB"));
    // Memory that ends exactly at 4 GiB is allowed and its last sector found.
    let top = Layout::parse("@X/0xFFFFF000/1*4Kg").unwrap();
    assert_eq!(top.groups[0].end(), 1 << 32);
    assert_eq!(top.sector_at(0xffff_ffff).unwrap().address, 0xffff_f000);
    assert!(err("@X/0xFFFFF000/1*4Kg,1*1Bg").contains("ends past 4 GiB"));
}

#[test]
fn sectors_are_computed_not_stored() {
    let l = Layout::parse("@F/0x0/1048576*1Bg").unwrap();
    assert_eq!(l.sector_count(), 1 << 20);
    let s = l.sector((1 << 20) - 1).unwrap();
    assert_eq!((s.index, s.address, s.size), ((1 << 20) - 1, 0xf_ffff, 1));
    assert_eq!(l.sector(1 << 20), None);
    let f4 = Layout::parse("@Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg").unwrap();
    let all: Vec<_> = f4.sectors().collect();
    assert_eq!(all.len(), f4.sector_count());
    for (i, s) in all.iter().enumerate() {
        assert_eq!(f4.sector(i), Some(*s));
        assert_eq!(f4.sector_at(s.address), Some(*s));
    }
    let groups = Layout::parse("@F/0x90000000/2*4Kg,0*1Kg/0x10000000/1*1Ka").unwrap();
    let addrs: Vec<_> = groups.sectors().map(|s| (s.index, s.address)).collect();
    assert_eq!(
        addrs,
        [(0, 0x9000_0000), (1, 0x9000_1000), (2, 0x1000_0000)]
    );
}

#[test]
fn type_letters_map_to_permission_bits() {
    let perms =
        |c: char| Layout::parse(&format!("@x/0x0/01*1K{c}")).unwrap().groups[0].runs[0].perms;
    assert_eq!(perms('a').to_string(), "r--");
    assert_eq!(perms('b').to_string(), "-e-");
    assert_eq!(perms('e').to_string(), "r-w");
    assert_eq!(perms('g').to_string(), "rew");
    assert_eq!(perms('g').letter(), 'g');
}
