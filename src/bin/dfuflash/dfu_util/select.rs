//! Which device and what to do, in dfu-util's terms: `-d` ids, `-S`, `-p`, `-a`, and the
//! `-s ADDRESS[:LENGTH][:modifier...]` DfuSe string.

use dfuflash::device::Entry;
use dfuflash::transport::Mode;

/// One id field of `-d`: any (`*` or left out), none (`-`), or a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Id {
    Any,
    Never,
    Is(u16),
}

impl Id {
    /// A hex field as dfu-util reads it (`0x` optional, trailing junk ignored).
    fn parse(s: Option<&str>, default: Id) -> Id {
        match s.map(str::trim) {
            None | Some("") => default,
            Some("*") => Id::Any,
            Some("-") => Id::Never,
            Some(t) => {
                let t = t
                    .strip_prefix("0x")
                    .or_else(|| t.strip_prefix("0X"))
                    .unwrap_or(t);
                let digits: String = t.chars().take_while(|c| c.is_ascii_hexdigit()).collect();
                u32::from_str_radix(&digits, 16)
                    .ok()
                    .and_then(|v| u16::try_from(v).ok())
                    .map_or(default, Id::Is)
            }
        }
    }

    fn matches(self, v: u16) -> bool {
        match self {
            Id::Any => true,
            Id::Never => false,
            Id::Is(x) => x == v,
        }
    }
}

/// `-d VID:PID[,VID_DFU:PID_DFU]`: the first pair matches devices in runtime mode, the second
/// devices in DFU mode. Without a comma the one pair matches both (dfu-util 0.11 would take any
/// device in DFU mode; a drop-in that never flashes a board it was not told to is stricter).
#[derive(Debug, Clone, Copy)]
pub struct Ids {
    runtime: (Id, Id),
    dfu: (Id, Id),
}

impl Ids {
    pub fn any() -> Self {
        Ids {
            runtime: (Id::Any, Id::Any),
            dfu: (Id::Any, Id::Any),
        }
    }

    pub fn parse(s: &str) -> Self {
        let pair = |p: &str, default: (Id, Id)| {
            let mut it = p.splitn(2, ':');
            let v = Id::parse(it.next(), default.0);
            let pr = Id::parse(it.next(), default.1);
            (v, pr)
        };
        match s.split_once(',') {
            None => {
                let p = pair(s, (Id::Any, Id::Any));
                Ids { runtime: p, dfu: p }
            }
            Some((run, dfu)) => {
                let runtime = if run.trim().is_empty() {
                    (Id::Never, Id::Never)
                } else {
                    pair(run, (Id::Any, Id::Any))
                };
                let dfu = pair(dfu, runtime);
                Ids { runtime, dfu }
            }
        }
    }

    pub fn matches(&self, e: &Entry) -> bool {
        let (v, p) = if e.info.mode == Mode::Runtime {
            self.runtime
        } else {
            self.dfu
        };
        v.matches(e.info.vendor_id) && p.matches(e.info.product_id)
    }
}

/// The `-s` string.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct DfuseOptions {
    pub address: Option<u32>,
    pub length: Option<u32>,
    pub leave: bool,
    pub force: bool,
    pub mass_erase: bool,
    pub unprotect: bool,
    pub will_reset: bool,
}

pub(super) use crate::dropin::number;

impl DfuseOptions {
    /// Parses `ADDRESS[:word...]`; a word is a modifier (a prefix of one is enough, as in
    /// dfu-util) or the upload length. The error is dfu-util's message.
    pub fn parse(s: &str) -> Result<Self, String> {
        let mut o = DfuseOptions::default();
        let mut words = s.split(':');
        let first = words.next().unwrap_or_default();
        if !first.is_empty() {
            o.address = Some(number(first).ok_or_else(|| format!("Invalid dfuse address: {s}"))?);
        }
        let rest: Vec<&str> = words.collect();
        for (i, w) in rest.iter().enumerate() {
            if w.is_empty() {
                continue;
            }
            let is = |keyword: &str| keyword.starts_with(w);
            if is("force") {
                o.force = true;
            } else if is("leave") {
                o.leave = true;
            } else if is("unprotect") {
                o.unprotect = true;
            } else if is("mass-erase") {
                o.mass_erase = true;
            } else if is("will-reset") {
                o.will_reset = true;
            } else if is("fast") {
                // Newer dfu-util's "skip verification": dfuflash's speed needs no such switch.
            } else if let Some(n) = number(w) {
                o.length = Some(n);
            } else {
                return Err(format!("Invalid dfuse modifier: {}", rest[i..].join(":")));
            }
        }
        Ok(o)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dfuse_strings_parse_as_dfu_util_reads_them() {
        let o = DfuseOptions::parse("0x08000000:leave").unwrap();
        assert_eq!(
            (o.address, o.leave, o.length),
            (Some(0x0800_0000), true, None)
        );
        let o = DfuseOptions::parse(":leave").unwrap();
        assert_eq!((o.address, o.leave), (None, true));
        let o = DfuseOptions::parse("0x08000000:32768").unwrap();
        assert_eq!(o.length, Some(32768));
        let o = DfuseOptions::parse(":mass:f").unwrap();
        assert!(o.mass_erase && o.force);
        assert_eq!(
            DfuseOptions::parse("0x08000000:bogus:leave").unwrap_err(),
            "Invalid dfuse modifier: bogus:leave"
        );
        assert_eq!(
            DfuseOptions::parse("0x0800zz").unwrap_err(),
            "Invalid dfuse address: 0x0800zz"
        );
    }

    #[test]
    fn device_ids_take_every_form_ides_pass() {
        let ids = |s: &str| Ids::parse(s);
        assert_eq!(ids("0483:df11").dfu, (Id::Is(0x0483), Id::Is(0xdf11)));
        assert_eq!(ids("0x2341:0x035b").dfu, (Id::Is(0x2341), Id::Is(0x035b)));
        assert_eq!(ids(",0483:DF11").runtime, (Id::Never, Id::Never));
        assert_eq!(ids(",0483:DF11").dfu, (Id::Is(0x0483), Id::Is(0xdf11)));
        assert_eq!(ids("1234:5678,:df11").dfu, (Id::Is(0x1234), Id::Is(0xdf11)));
        assert_eq!(ids("*:df11").dfu, (Id::Any, Id::Is(0xdf11)));
        assert_eq!(ids("0483").dfu, (Id::Is(0x0483), Id::Any));
    }
}
