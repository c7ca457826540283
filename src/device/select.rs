//! Choosing among the entries the way dfu-util users know: VID:PID, serial, port path, and the
//! alt setting by number or name.

use super::Entry;
use crate::error::Error;
use crate::transport::DeviceInfo;

/// Which device, and which alt setting.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Selector {
    /// idVendor.
    pub vendor_id: Option<u16>,
    /// idProduct.
    pub product_id: Option<u16>,
    /// Serial number string (every STM32H7 ROM reports the same one: use the path).
    pub serial: Option<String>,
    /// USB port path (`1-4.2`), or `sim:MODEL`.
    pub path: Option<String>,
    /// Alt setting by number.
    pub alt: Option<u8>,
    /// Alt setting by name (or a prefix of its layout name, such as `@Internal Flash`).
    pub alt_name: Option<String>,
}

fn describe(e: &Entry) -> String {
    format!(
        "{:04x}:{:04x} serial {} path {}",
        e.info.vendor_id,
        e.info.product_id,
        e.info.serial.as_deref().unwrap_or("-"),
        e.info.port_path.as_deref().unwrap_or("-")
    )
}

/// Every entry the selector matches (a selector of nothing matches them all).
pub fn matching<'a>(entries: &'a [Entry], sel: &Selector) -> Vec<&'a Entry> {
    entries
        .iter()
        .filter(|e| sel.vendor_id.is_none_or(|v| v == e.info.vendor_id))
        .filter(|e| sel.product_id.is_none_or(|p| p == e.info.product_id))
        .filter(|e| {
            sel.serial
                .as_ref()
                .is_none_or(|s| e.info.serial.as_ref() == Some(s))
        })
        .filter(|e| {
            sel.path
                .as_ref()
                .is_none_or(|p| e.info.port_path.as_ref() == Some(p))
        })
        .collect()
}

/// Every entry that matches, or an error listing what exists when none does.
pub fn select_all<'a>(entries: &'a [Entry], sel: &Selector) -> Result<Vec<&'a Entry>, Error> {
    let matches = matching(entries, sel);
    if !matches.is_empty() {
        return Ok(matches);
    }
    Err(Error::DeviceNotFound {
        available: if entries.is_empty() {
            "none (connect a board in DFU mode, wait for one to appear, or use a simulated device)"
                .into()
        } else {
            entries.iter().map(describe).collect::<Vec<_>>().join("; ")
        },
    })
}

/// The one entry that matches, or an error listing what matched (or what exists).
pub fn select<'a>(entries: &'a [Entry], sel: &Selector) -> Result<&'a Entry, Error> {
    match select_all(entries, sel)?.as_slice() {
        [one] => Ok(one),
        many => Err(Error::AmbiguousDevice {
            count: many.len(),
            candidates: many
                .iter()
                .map(|e| describe(e))
                .collect::<Vec<_>>()
                .join("; "),
        }),
    }
}

/// The alt setting a selector names on this device (0 when it names none). A number and a
/// name given together must name the same alt setting.
pub fn resolve_alt(info: &DeviceInfo, sel: &Selector) -> Result<u8, Error> {
    let Some(name) = &sel.alt_name else {
        return Ok(sel.alt.unwrap_or(0));
    };
    let by_name = alt_named(info, name)?;
    match sel.alt {
        Some(number) if number != by_name => Err(Error::InvalidArgument(format!(
            "alt setting {number} and the name {name:?} (alt setting {by_name}) name different alt settings; give one of them"
        ))),
        _ => Ok(by_name),
    }
}

/// The alt setting with this whole name, or else the one whose name (after the '@') starts
/// with it.
fn alt_named(info: &DeviceInfo, name: &str) -> Result<u8, Error> {
    let n = name.trim();
    if n.trim_start_matches('@').trim().is_empty() {
        return Err(Error::InvalidArgument(
            "an empty alt setting name matches nothing; give one such as \"@Internal Flash\""
                .into(),
        ));
    }
    let listed = || {
        info.alt_settings
            .iter()
            .map(|a| format!("{} {:?}", a.alt, a.name))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if let Some(a) = info.alt_settings.iter().find(|a| a.name == name) {
        return Ok(a.alt);
    }
    let prefixed: Vec<_> = info
        .alt_settings
        .iter()
        .filter(|a| {
            a.name
                .trim_start_matches('@')
                .trim_start()
                .starts_with(n.trim_start_matches('@'))
        })
        .collect();
    match prefixed.as_slice() {
        [one] => Ok(one.alt),
        [] => Err(Error::NoSuchAltName {
            name: name.to_string(),
            available: listed(),
        }),
        several => Err(Error::InvalidArgument(format!(
            "alt setting name {name:?} matches {} of them; give more of the name: {}",
            several.len(),
            listed()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::device::simulated_boards;
    #[test]
    fn matching_filters_and_select_all_names_what_exists() {
        let all =
            simulated_boards(&["stm32f405", "stm32h743-revv", "stm32h743-revv"], None).unwrap();
        let mut sel = Selector {
            serial: Some("200364500000".into()),
            ..Selector::default()
        };
        assert_eq!(
            matching(&all, &sel)
                .iter()
                .map(|e| e.info.port_path.as_deref().unwrap())
                .collect::<Vec<_>>(),
            ["sim:stm32h743-revv", "sim:stm32h743-revv#2"]
        );
        assert_eq!(matching(&all, &Selector::default()).len(), 3);
        sel.path = Some("1-1".into());
        let err = select_all(&all, &sel).unwrap_err().to_string();
        assert!(
            err.contains("no DFU device matches") && err.contains("sim:stm32h743-revv#2"),
            "{err}"
        );
    }
}
