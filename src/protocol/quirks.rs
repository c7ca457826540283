//! The host-side quirks: devices whose descriptors or behaviour need the host's help, keyed as
//! dfu-util keys them (its src/quirks.c, 0.11 and master, `get_quirks` and
//! `fixup_dfuse_layout`), each rule with its source. [`apply`] fixes what a device reports, once,
//! where its description enters the host (the listing and [`super::Dfu::open`]); the engine asks
//! [`Quirks::of`] for the rest. The STM32H7 Rev V recovery is not here: it is keyed on what the
//! device does, not on who it says it is.

use crate::layout::Layout;
use crate::transport::DeviceInfo;

/// One way a device needs the host's help.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quirk {
    /// The device's bwPollTimeout is bogus: the host waits [`DEFAULT_POLL_MS`] instead
    /// (dfu-util QUIRK_POLLTIMEOUT).
    IgnorePollTimeout,
    /// The functional descriptor names the wrong DFU version: the device speaks plain DFU 1.1
    /// (QUIRK_FORCE_DFU11).
    ForceDfu11,
    /// The serial string descriptor holds UTF-8 bytes, not UTF-16LE (QUIRK_UTF8_SERIAL).
    Utf8Serial,
    /// The GD32VF103 ROM reports 512 pages of 2 KB at 0x08000000; the part number in its serial
    /// gives the real flash: 1 KB pages, 16 to 128 of them (QUIRK_DFUSE_LAYOUT).
    Gd32vf103Layout,
    /// The device may leave on the zero-length DNLOAD or on the GETSTATUS after it, answering
    /// either or not: both are sent, whatever became of the first (QUIRK_DFUSE_LEAVE as
    /// `dfuse_do_leave` uses it; quirks.c's comment, "without a DFU_GETSTATUS request", is not
    /// what the code does).
    LeaveUnanswered,
}

impl Quirk {
    /// Its name in listings.
    pub fn name(self) -> &'static str {
        match self {
            Quirk::IgnorePollTimeout => "ignore-poll-timeout",
            Quirk::ForceDfu11 => "force-dfu11",
            Quirk::Utf8Serial => "utf8-serial",
            Quirk::Gd32vf103Layout => "gd32vf103-layout",
            // The name listings have always shown (integrators match on it); the leave it
            // names still sends the GETSTATUS, as dfu-util's does.
            Quirk::LeaveUnanswered => "leave-without-status",
        }
    }
}

/// What the host waits when it ignores a device's poll timeout: dfu-util's DEFAULT_POLLTIMEOUT
/// ("works for OpenMoko").
pub const DEFAULT_POLL_MS: u32 = 5;

/// The devices a rule is for.
#[derive(Debug)]
pub struct Rule {
    /// idVendor.
    pub vendor: u16,
    /// idProduct, first and last.
    pub products: (u16, u16),
    /// bcdDevice, when the rule names one.
    pub bcd_device: Option<u16>,
    /// What they need.
    pub quirks: &'static [Quirk],
    /// Which devices these are.
    pub devices: &'static str,
    /// Where the rule comes from.
    pub source: &'static str,
}

const GET_QUIRKS: &str = "dfu-util src/quirks.c, get_quirks()";

/// Every rule of dfu-util's quirk table.
pub const RULES: &[Rule] = &[
    Rule {
        vendor: 0x1d50,
        products: (0x5117, 0x5126),
        bcd_device: None,
        quirks: &[Quirk::IgnorePollTimeout],
        devices: "Openmoko Freerunner / GTA02 (Openmoko VID)",
        source: GET_QUIRKS,
    },
    Rule {
        vendor: 0x1457,
        products: (0x5117, 0x5126),
        bcd_device: None,
        quirks: &[Quirk::IgnorePollTimeout],
        devices: "Openmoko Freerunner / GTA02 (FIC VID)",
        source: GET_QUIRKS,
    },
    Rule {
        vendor: 0x16c0,
        products: (0x0762, 0x0762),
        bcd_device: None,
        quirks: &[Quirk::IgnorePollTimeout],
        devices: "SIMtrace (VOTI VID)",
        source: GET_QUIRKS,
    },
    Rule {
        vendor: 0x16c0,
        products: (0x076b, 0x076c),
        bcd_device: None,
        quirks: &[Quirk::IgnorePollTimeout],
        devices: "OpenPCD, OpenPICC (VOTI VID)",
        source: GET_QUIRKS,
    },
    Rule {
        vendor: 0x1eaf,
        products: (0x0003, 0x0003),
        bcd_device: Some(0x0200),
        quirks: &[Quirk::ForceDfu11],
        devices: "LeafLabs Maple rev 3 and 5",
        source: GET_QUIRKS,
    },
    Rule {
        vendor: 0x0908,
        products: (0x02c4, 0x02c5),
        bcd_device: Some(0x0000),
        quirks: &[Quirk::IgnorePollTimeout],
        devices: "Siemens PXM 40 and PXM 50 (old devices, bcdDevice 0)",
        source: GET_QUIRKS,
    },
    Rule {
        vendor: 0x0763,
        products: (0x2806, 0x2806),
        bcd_device: None,
        quirks: &[Quirk::IgnorePollTimeout],
        devices: "M-Audio Transit (Midiman VID)",
        source: GET_QUIRKS,
    },
    Rule {
        vendor: 0x28e9,
        products: (0x0189, 0x0189),
        bcd_device: None,
        quirks: &[
            Quirk::Utf8Serial,
            Quirk::Gd32vf103Layout,
            Quirk::LeaveUnanswered,
        ],
        devices: "GigaDevice GD32VF103 ROM (Sipeed Longan Nano)",
        source: "dfu-util src/quirks.c, get_quirks() and fixup_dfuse_layout(); src/dfuse.c, dfuse_do_leave() and dfuse_download()",
    },
];

/// The quirks of one device.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Quirks(u8);

impl Quirks {
    /// The quirks the table gives a device with these ids.
    pub fn of(vendor: u16, product: u16, bcd_device: u16) -> Self {
        let mut q = Quirks::default();
        for r in RULES.iter().filter(|r| {
            r.vendor == vendor
                && (r.products.0..=r.products.1).contains(&product)
                && r.bcd_device.is_none_or(|b| b == bcd_device)
        }) {
            for &k in r.quirks {
                q.0 |= 1 << k as u8;
            }
        }
        q
    }

    /// The quirks of the device `info` describes.
    pub fn of_device(info: &DeviceInfo) -> Self {
        Self::of(info.vendor_id, info.product_id, info.bcd_device)
    }

    /// Whether `q` is among them.
    pub fn has(self, q: Quirk) -> bool {
        self.0 & (1 << q as u8) != 0
    }

    /// No quirk: the device is taken at its word.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

/// The device's description as the host should see it: the DFU version forced, the GD32VF103's
/// flash layout fixed from its part number; `info.quirks` says what was applied. Applying it
/// twice changes nothing more.
pub fn apply(mut info: DeviceInfo) -> DeviceInfo {
    let q = Quirks::of_device(&info);
    if q.is_empty() || !info.quirks.is_empty() {
        return info;
    }
    let mut applied = Vec::new();
    if q.has(Quirk::IgnorePollTimeout) {
        applied.push(format!(
            "{}: its bwPollTimeout is bogus, the host waits {DEFAULT_POLL_MS} ms",
            Quirk::IgnorePollTimeout.name()
        ));
    }
    if q.has(Quirk::ForceDfu11) {
        applied.push(format!(
            "{}: it reports DFU version {:04x}, it speaks DFU 1.1",
            Quirk::ForceDfu11.name(),
            info.functional.dfu_version
        ));
        info.functional.dfu_version = 0x0110;
    }
    if q.has(Quirk::Utf8Serial) {
        applied.push(format!(
            "{}: its serial string is read as UTF-8",
            Quirk::Utf8Serial.name()
        ));
    }
    if q.has(Quirk::Gd32vf103Layout) {
        applied.push(fix_gd32vf103_layout(&mut info));
    }
    if q.has(Quirk::LeaveUnanswered) {
        applied.push(format!(
            "{}: it may leave on the leave request or the status request after it, answering neither",
            Quirk::LeaveUnanswered.name()
        ));
    }
    info.quirks = applied;
    info
}

/// Where the GD32VF103's flash starts.
const GD32VF103_FLASH: u32 = 0x0800_0000;

/// Fixes alt setting 0's flash group from the part number the serial carries ("3CBJ": the
/// third character is the flash size code of the GD32VF103 datasheet's tables 2-1 and 2-2),
/// as dfu-util does for a serial of 4 characters, '3' first and 'J' last. Says what it did.
fn fix_gd32vf103_layout(info: &mut DeviceInfo) -> String {
    let name = Quirk::Gd32vf103Layout.name();
    let serial = info.serial.clone().unwrap_or_default();
    let s: Vec<char> = serial.chars().collect();
    if s.len() != 4 || s[0] != '3' || s[3] != 'J' {
        return format!(
            "{name}: the serial {serial:?} names no GD32VF103 part: layout as reported"
        );
    }
    let (pages, known) = match s[2] {
        'B' => (128, true),
        '8' => (64, true),
        '6' => (32, true),
        '4' => (16, true),
        _ => (128, false),
    };
    let Some(alt) = info.alt_settings.iter_mut().find(|a| a.alt == 0) else {
        return format!("{name}: no alt setting 0: layout as reported");
    };
    let Ok(layout) = Layout::parse(&alt.name) else {
        return format!("{name}: alt setting 0's layout does not parse: as reported");
    };
    let Some(group) = layout.groups.iter().find(|g| g.start == GD32VF103_FLASH) else {
        return format!("{name}: no memory at {GD32VF103_FLASH:#010x}: layout as reported");
    };
    let perms = group.runs.first().map_or('g', |r| r.perms.letter());
    // The name as the device spells it, spaces included.
    let head = alt.name.split('/').next().unwrap_or_default();
    let fixed = format!("{head}/{GD32VF103_FLASH:#010x}/{pages:03}*001K{perms}");
    let was = std::mem::replace(&mut alt.name, fixed.clone());
    let guess = if known {
        String::new()
    } else {
        format!(
            " (flash size code {:?} unknown: 128 KB assumed, as dfu-util does)",
            s[2]
        )
    };
    format!("{name}: part {serial} has {pages} pages of 1 KB; it reports {was:?}, read as {fixed:?}{guess}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::AltSetting;

    #[test]
    fn the_table_keys_on_vendor_product_range_and_bcd_device() {
        assert!(Quirks::of(0x1d50, 0x5120, 0).has(Quirk::IgnorePollTimeout));
        assert!(Quirks::of(0x1d50, 0x5127, 0).is_empty());
        assert!(Quirks::of(0x1eaf, 0x0003, 0x0200).has(Quirk::ForceDfu11));
        assert!(Quirks::of(0x1eaf, 0x0003, 0x0201).is_empty());
        assert!(Quirks::of(0x0908, 0x02c5, 0).has(Quirk::IgnorePollTimeout));
        assert!(Quirks::of(0x0908, 0x02c5, 1).is_empty());
        let gd = Quirks::of(0x28e9, 0x0189, 0x1000);
        assert!(gd.has(Quirk::Utf8Serial) && gd.has(Quirk::LeaveUnanswered));
        assert!(!gd.has(Quirk::IgnorePollTimeout));
        assert!(Quirks::of(0x0483, 0xdf11, 0x2200).is_empty());
    }

    fn gd32(serial: &str) -> DeviceInfo {
        let mut info = crate::sim::SimDevice::describe("stm32f405").unwrap();
        (info.vendor_id, info.product_id, info.bcd_device) = (0x28e9, 0x0189, 0x1000);
        info.serial = Some(serial.into());
        info.alt_settings = AltSetting::numbered(&[
            "@Internal Flash  /0x08000000/512*002Kg",
            "@Option Bytes  /0x1FFFF800/01*016 g",
        ]);
        info
    }

    #[test]
    fn the_gd32vf103_layout_comes_from_its_part_number() {
        for (serial, pages) in [("3CBJ", 128), ("3C8J", 64), ("3R6J", 32), ("3T4J", 16)] {
            let info = apply(gd32(serial));
            let l = Layout::parse(&info.alt_settings[0].name).unwrap();
            assert_eq!(
                (l.sector_count(), l.total_size(), l.source.as_str()),
                (
                    pages,
                    pages as u64 * 1024,
                    format!("@Internal Flash  /0x08000000/{pages:03}*001Kg").as_str()
                ),
                "{serial}"
            );
            assert_eq!(
                info.alt_settings[1].name,
                "@Option Bytes  /0x1FFFF800/01*016 g"
            );
            assert!(info
                .quirks
                .iter()
                .any(|q| q.contains("reports \"@Internal Flash  /0x08000000/512*002Kg\"")));
            // Once.
            assert_eq!(apply(info.clone()), info);
        }
        let unknown = apply(gd32("3CZJ"));
        assert!(unknown.alt_settings[0].name.contains("/128*001Kg"));
        assert!(unknown
            .quirks
            .iter()
            .any(|q| q.contains("unknown: 128 KB assumed")));
        let other = apply(gd32("ABCD"));
        assert_eq!(
            other.alt_settings[0].name,
            "@Internal Flash  /0x08000000/512*002Kg"
        );
    }

    #[test]
    fn a_forced_dfu_1_1_device_is_not_dfuse() {
        let mut info = gd32("x");
        (info.vendor_id, info.product_id, info.bcd_device) = (0x1eaf, 0x0003, 0x0200);
        let info = apply(info);
        assert!(!info.functional.is_dfuse());
        assert!(info.quirks[0].starts_with("force-dfu11: it reports DFU version 011a"));
    }
}
