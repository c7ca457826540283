//! A failure of the library in dfu-util's terms: its exit code (sysexits) and its words.

use dfuflash::image::{FormatError, ImageError};
use dfuflash::plan::PlanError;
use dfuflash::protocol::ProtocolError;
use dfuflash::Error;

use super::{exit, Failure};

/// An error of the library as dfu-util's exit code and line.
pub(super) fn fail(e: Error) -> Failure {
    let code = match &e {
        Error::Format(FormatError::Io { .. }) => exit::NOINPUT,
        Error::Format(_) => exit::DATAERR,
        Error::Plan(_) | Error::SuffixMismatch { .. } | Error::InvalidArgument(_) => exit::USAGE,
        Error::Image(ImageError::AltMismatch { .. }) => exit::USAGE,
        Error::Protocol(ProtocolError::UnexpectedState { .. }) => exit::PROTOCOL,
        _ => exit::IOERR,
    };
    // In dfu-util's terms: its only permission is :force, and it has no suffix override.
    let message = match &e {
        Error::Plan(PlanError::Protected {
            allowed_by: Some(_), ..
        }) => {
            format!("{e} (add :force to the -s string)")
        }
        Error::SuffixMismatch {
            file_vid,
            file_pid,
            dev_vid,
            dev_pid,
            ..
        } => format!(
            "Error: File ID {file_vid:04x}:{file_pid:04x} does not match device ({dev_vid:04x}:{dev_pid:04x})"
        ),
        _ => e.to_string(),
    };
    Failure::new(code, message)
}
