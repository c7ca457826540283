//! The `STM32_Programmer_CLI` personality: run as `STM32_Programmer_CLI` (`.exe`), as
//! `STM32_Programmer.sh` (STM32duino's name on Linux) or as `dfuflash cubeprog ARGS...`, the
//! command takes the USB DFU subset of STM32CubeProgrammer's command line that IDEs and build
//! tools pass, prints the lines they parse, and exits 0 or 1, while the work runs through
//! dfuflash's engine. What dfuflash adds is on lines that start with `dfuflash:`.

mod args;
mod board;
mod download;
mod layout;
mod output;
mod run;

use std::ffi::OsString;
use std::process::ExitCode;

/// Whether the program was started under one of CubeProgrammer's names.
pub fn invoked_as_cubeprog(argv0: &OsString) -> bool {
    std::path::Path::new(argv0).file_stem().is_some_and(|s| {
        s.eq_ignore_ascii_case("STM32_Programmer_CLI") || s.eq_ignore_ascii_case("STM32_Programmer")
    })
}

/// Runs CubeProgrammer's command line (`args` without the program name).
pub fn main(args: Vec<OsString>) -> ExitCode {
    let args: Vec<String> = args
        .into_iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let a = match args::parse(&args) {
        Ok(a) => a,
        Err(line) => {
            // After the banner, as CubeProgrammer refuses a command line.
            if let Ok(mut out) = output::Out::new(false, 0, None) {
                output::banner(&mut out);
            }
            println!("{line}");
            return ExitCode::FAILURE;
        }
    };
    if a.help {
        print!("{}", run::HELP);
        return ExitCode::SUCCESS;
    }
    let mut out = match output::Out::new(a.quiet, a.verbosity, a.log.as_deref()) {
        Ok(o) => o,
        Err(line) => {
            println!("{line}");
            return ExitCode::FAILURE;
        }
    };
    match run::run(&a, &mut out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(line) => {
            if !line.is_empty() {
                out.line(line);
            }
            ExitCode::FAILURE
        }
    }
}
