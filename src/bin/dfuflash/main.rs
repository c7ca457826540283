//! The `dfuflash` command: parse the command line, run the one command it names (each lives
//! in `commands/`), and on failure print `dfuflash: error: ...` and exit 1.

use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;

use dfuflash::progress::CancelToken;

mod args;
mod board_report;
mod boards_display;
mod commands;
mod cubeprog;
mod dfu_util;
mod display;
mod dropin;
mod events;
mod flash_job;
mod hints;
mod interrupt;
mod job_output;
mod open;
mod production_log;
mod report;

use args::{Cli, Command};

fn run(cli: Cli) -> Result<(), String> {
    let wall = Instant::now();
    let cancel = CancelToken::new();
    match cli.command {
        Command::List(args) => commands::list::run(args),
        Command::Info(args) => commands::info::run(args),
        Command::Flash(args) => commands::flash::run(args, wall, &cancel),
        Command::FlashLayout(args) => commands::flash_layout::run(args, wall, &cancel),
        Command::Pack(args) => commands::pack::run(args),
        Command::Inspect(args) => commands::inspect::run(args),
        Command::Suffix { action } => commands::suffix::run(action),
        Command::Read(args) => commands::read::run(args, wall, &cancel),
        Command::Erase(args) => commands::erase::run(args, wall, &cancel),
    }
}

fn main() -> ExitCode {
    // Output piped into `head` that closes early ends the program quietly, as it ends dfu-util
    // and every C tool, instead of a panic on the next print (Rust ignores SIGPIPE).
    #[cfg(unix)]
    // SAFETY: restoring a signal's default action before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    // Under dfu-util's name (or `dfuflash dfu-util ...`), the dfu-util 0.11 command line.
    let mut args = std::env::args_os();
    let argv0 = args.next().unwrap_or_default();
    if dfu_util::invoked_as_dfu_util(&argv0) {
        return dfu_util::main(args.collect());
    }
    // Under STM32_Programmer_CLI's names (or `dfuflash cubeprog ...`), its USB command line.
    if cubeprog::invoked_as_cubeprog(&argv0) {
        return cubeprog::main(args.collect());
    }
    let rest: Vec<_> = args.collect();
    if rest.first().is_some_and(|a| a == "dfu-util") {
        return dfu_util::main(rest[1..].to_vec());
    }
    if rest.first().is_some_and(|a| a == "cubeprog") {
        return cubeprog::main(rest[1..].to_vec());
    }
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("dfuflash: error: {message}");
            ExitCode::FAILURE
        }
    }
}
