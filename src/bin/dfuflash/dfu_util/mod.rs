//! The `dfu-util` personality: run as `dfu-util` (a copy, link or `dfu-util.exe`) or as
//! `dfuflash dfu-util ARGS...`, the command takes dfu-util 0.11's command line, prints the
//! lines IDEs parse and exits with its sysexits codes, while the work runs through dfuflash's
//! engine (the Rev V recovery, the refusals, read-back verify, deadlines). What dfuflash adds
//! is printed on lines that start with `dfuflash:`, after the progress bars.

mod args;
mod board;
mod download;
mod failure;
mod output;
mod run;
mod select;
mod upload;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;

pub use args::DfuUtilArgs;

/// sysexits codes, as dfu-util uses them.
pub mod exit {
    pub const USAGE: u8 = 64;
    pub const DATAERR: u8 = 65;
    pub const NOINPUT: u8 = 66;
    pub const CANTCREAT: u8 = 73;
    pub const IOERR: u8 = 74;
    pub const PROTOCOL: u8 = 76;
}

/// A failure: dfu-util's exit code and the one line that says why.
pub struct Failure {
    pub code: u8,
    pub message: String,
}

impl Failure {
    pub fn new(code: u8, message: impl Into<String>) -> Self {
        Failure {
            code,
            message: message.into(),
        }
    }
}

/// Whether the program was started under dfu-util's name.
pub fn invoked_as_dfu_util(argv0: &OsString) -> bool {
    std::path::Path::new(argv0)
        .file_stem()
        .is_some_and(|s| s.eq_ignore_ascii_case("dfu-util"))
}

/// Runs dfu-util's command line (`args` without the program name).
pub fn main(args: Vec<OsString>) -> ExitCode {
    let argv = std::iter::once(OsString::from("dfu-util")).chain(args);
    let a = match DfuUtilArgs::try_parse_from(argv) {
        Ok(a) => a,
        Err(e) => {
            let first = e.to_string();
            let first = first
                .lines()
                .next()
                .unwrap_or_default()
                .trim_start_matches("error: ");
            eprintln!("dfu-util: {first}");
            eprint!("{}", args::HELP);
            return ExitCode::from(exit::USAGE);
        }
    };
    if a.help {
        eprint!("{}", args::HELP);
        return ExitCode::SUCCESS;
    }
    match run::run(&a) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            if !f.message.is_empty() {
                eprintln!("dfu-util: {}", f.message);
            }
            ExitCode::from(f.code)
        }
    }
}
