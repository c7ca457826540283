//! The GetPhase reply (ST-SERIAL-BOOT.md A2): every field is the device's word, bounds-checked.

/// The command alt's phase id.
pub const CMD: u8 = 0xf1;
/// The layout (phase 0).
pub const LAYOUT: u8 = 0x00;
/// Done.
pub const END: u8 = 0xfe;
/// The device failed; text follows.
pub const RESET: u8 = 0xff;
/// The longest error text kept from a phase 0xFF reply.
pub const MAX_TEXT: usize = 200;

/// One GetPhase reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhaseReply {
    /// Byte 0.
    pub phase: u8,
    /// Bytes 1-4; None when 0xFFFFFFFF (undefined).
    pub address: Option<u32>,
    /// Bytes 5-8.
    pub offset: u32,
    /// Byte 9 when sent. The OpenBootloader leaves it as its buffer held it, so it only counts
    /// where TF-A defines it: phase 0 with an undefined address.
    pub detach_byte: Option<u8>,
    /// Phase 0xFF's text, printable ASCII up to the first NUL, at most [`MAX_TEXT`].
    pub text: String,
}

impl PhaseReply {
    /// Parses a reply; None when it is shorter than the 9 bytes every device sends.
    pub fn parse(b: &[u8]) -> Option<Self> {
        if b.len() < 9 {
            return None;
        }
        let w = |at: usize| u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]);
        let address = Some(w(1)).filter(|&a| a != 0xffff_ffff);
        let text = if b[0] == RESET {
            b[9..]
                .iter()
                .take_while(|&&c| c != 0)
                .take(MAX_TEXT)
                .map(|&c| {
                    if (0x20..0x7f).contains(&c) {
                        c as char
                    } else {
                        '?'
                    }
                })
                .collect()
        } else {
            String::new()
        };
        Some(Self {
            phase: b[0],
            address,
            offset: w(5),
            detach_byte: b.get(9).copied(),
            text,
        })
    }

    /// The device asks the host to DETACH (TF-A's "Send detach request").
    pub fn asks_detach(&self) -> bool {
        self.phase == LAYOUT && self.address.is_none() && self.detach_byte == Some(1)
    }

    /// The reply as a device sends it: byte 9 is `detach`, or for phase 0xFF the text's start.
    pub fn to_bytes(&self, detach: u8) -> Vec<u8> {
        let mut v = vec![self.phase];
        v.extend_from_slice(&self.address.unwrap_or(0xffff_ffff).to_le_bytes());
        v.extend_from_slice(&self.offset.to_le_bytes());
        if self.phase == RESET {
            v.extend_from_slice(self.text.as_bytes());
        } else {
            v.push(detach);
        }
        v
    }
}

/// The phase id in an alt name's `/0xNN/` token (`@virtual /0xF1/1*512Ba` is 0xF1); None when
/// the token is not a phase id (the N6 ROM's `@FSBL /0x34180400/...` is an address).
pub fn alt_phase(name: &str) -> Option<u8> {
    let token = name.split('/').nth(1)?.trim();
    let hex = token
        .strip_prefix("0x")
        .or_else(|| token.strip_prefix("0X"))?;
    if hex.is_empty() || hex.len() > 2 {
        return None;
    }
    u8::from_str_radix(hex, 16).ok()
}

/// The alt for `phase`: the one whose token is the phase, or for the FSBL (0x01) the one named
/// `@FSBL` (snagboot matches that name; the N6 ROM's FSBL alt carries an address).
pub fn alt_for(alts: &[crate::transport::AltSetting], phase: u8) -> Option<u8> {
    let by_token = alts.iter().find(|a| alt_phase(&a.name) == Some(phase));
    let by_name = || {
        alts.iter()
            .find(|a| phase == 0x01 && a.name.split([' ', '/']).next() == Some("@FSBL"))
    };
    by_token.or_else(by_name).map(|a| a.alt)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::AltSetting;

    #[test]
    fn short_replies_are_refused_and_fields_are_read_as_sent() {
        assert_eq!(PhaseReply::parse(&[1; 8]), None);
        let r =
            PhaseReply::parse(&[0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, b'b', 0xc3, 0]).unwrap();
        assert_eq!((r.address, r.text.as_str()), (None, "b?"));
        let r = PhaseReply::parse(&[0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 1]).unwrap();
        assert!(r.asks_detach());
        let r = PhaseReply::parse(&[0, 0, 0, 0, 0x34, 0, 0, 0, 0, 1]).unwrap();
        assert!(
            !r.asks_detach(),
            "a defined address: byte 9 is buffer garbage"
        );
    }

    #[test]
    fn alts_are_found_by_token_or_by_the_fsbl_name() {
        let alts = AltSetting::numbered(&["@FSBL /0x34180400/01*512Kg", "@virtual /0xF1/1*512Ba"]);
        assert_eq!(alt_for(&alts, 0x01), Some(0));
        assert_eq!(alt_for(&alts, 0xf1), Some(1));
        assert_eq!(alt_for(&alts, 0x03), None);
        let obl = AltSetting::numbered(&["@Flashlayout /0x00/1*1Ke", "@FSBL-EXT /0x03/1*32Ke"]);
        assert_eq!(alt_for(&obl, 0x01), None, "@FSBL-EXT is not @FSBL");
        assert_eq!(alt_for(&obl, 0x03), Some(1));
    }
}
