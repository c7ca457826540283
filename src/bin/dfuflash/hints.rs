//! The library's errors in the command's terms: where an error names a library option or a
//! missing argument, the command adds the flag that gives it.

use dfuflash::image::{FormatError, ImageError};
use dfuflash::plan::{Permission, PlanError};
use dfuflash::Error;

/// The message of `e`, with the flag to use when one applies.
pub fn message(e: &Error) -> String {
    if let Error::Format(FormatError::AddressNotAllowed { file, format }) = e {
        return format!("{file} is a {format} file with its own addresses; --address applies to raw binaries only");
    }
    match hint(e) {
        Some(flag) => format!("{e} ({flag})"),
        None => e.to_string(),
    }
}

/// The message of a file error, for a command whose raw inputs are `ADDR:FILE` (pack).
pub fn pack_message(e: &FormatError) -> String {
    match e {
        FormatError::RawNeedsAddress { .. } => format!("{e} (ADDR:FILE)"),
        _ => e.to_string(),
    }
}

fn hint(e: &Error) -> Option<&'static str> {
    match e {
        Error::DeviceNotFound { .. } => {
            Some("--wait to wait for a board, --sim MODEL for a simulated one")
        }
        Error::Format(FormatError::RawNeedsAddress { .. }) => {
            Some("--address 0x08000000, for example")
        }
        Error::Image(ImageError::AltMismatch { .. }) => Some("-a ALT"),
        Error::Plan(PlanError::Protected { allowed_by, .. }) => match allowed_by {
            Some(Permission::OptionBytes) => Some("--allow-option-bytes"),
            Some(Permission::Otp) => Some("--allow-otp"),
            _ => None,
        },
        Error::Plan(PlanError::NotReadable { .. }) => Some("--no-verify"),
        Error::SuffixMismatch { .. } => Some("--ignore-suffix"),
        _ => None,
    }
}
