//! The `dfuflash` command: flash, read, erase, info and list, on the simulator today and on
//! USB devices once the USB backend lands.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;

use dfuflash::image::{self, dfuse, suffix, Format, Image, LoadOptions, Suffix, Target};
use dfuflash::progress::CancelToken;

mod args;
mod commands;
mod display;
mod open;
mod report;

use commands::inspect::{describe_image, print_image};

use args::{parse_u32, Cli, Command, PackArgs, SuffixAction};

/// One `pack` input: a file of any format, or `ADDR[@ALT]:file.bin`.
fn load_input(input: &str, default_alt: u8) -> Result<Image, String> {
    let as_file = std::path::Path::new(input);
    if !as_file.exists() {
        if let Some((addr, path)) = input.split_once(':') {
            let (addr, alt) = match addr.split_once('@') {
                Some((a, alt)) => (
                    a,
                    alt.parse::<u8>()
                        .map_err(|_| format!("{input}: {alt:?} is not an alt setting number"))?,
                ),
                None => (addr, default_alt),
            };
            let mut opts = LoadOptions::default();
            opts.address = Some(parse_u32(addr).map_err(|e| format!("{input}: {e}"))?);
            opts.alt = alt;
            return image::load(std::path::Path::new(path), &opts)
                .map(|(_, i)| i)
                .map_err(|e| e.to_string());
        }
    }
    let mut opts = LoadOptions::default();
    opts.alt = default_alt;
    image::load(as_file, &opts)
        .map(|(_, i)| i)
        .map_err(|e| e.to_string())
}

fn suffix_command(action: SuffixAction) -> Result<(), String> {
    let read =
        |p: &PathBuf| std::fs::read(p).map_err(|e| format!("cannot read {}: {e}", p.display()));
    let write = |p: &PathBuf, d: &[u8]| {
        std::fs::write(p, d).map_err(|e| format!("cannot write {}: {e}", p.display()))
    };
    let (file, data) = match &action {
        SuffixAction::Add { file, .. }
        | SuffixAction::Check { file }
        | SuffixAction::Remove { file } => (file.clone(), read(file)?),
    };
    let name = file.display().to_string();
    let (payload, found) = suffix::split(&data, &name).map_err(|e| e.to_string())?;
    match (action, found) {
        (SuffixAction::Add { .. }, Some(_)) => {
            Err(format!("{name} already has a DFU suffix; remove it first"))
        }
        (
            SuffixAction::Add {
                device, bcd_device, ..
            },
            None,
        ) => {
            let s = Suffix {
                bcd_device,
                product_id: device.1,
                vendor_id: device.0,
                bcd_dfu: 0x0100,
            };
            write(&file, &suffix::append(&data, &s))?;
            eprintln!(
                "added suffix {:04x}:{:04x} bcdDevice {:04x} to {name}",
                s.vendor_id, s.product_id, s.bcd_device
            );
            Ok(())
        }
        (SuffixAction::Check { .. }, Some(s)) => {
            println!(
                "{name}: suffix ok: {:04x}:{:04x} bcdDevice {:04x} bcdDFU {:04x}",
                s.vendor_id, s.product_id, s.bcd_device, s.bcd_dfu
            );
            Ok(())
        }
        (SuffixAction::Remove { .. }, Some(_)) => write(&file, payload),
        (_, None) => Err(format!("{name} has no DFU suffix")),
    }
}

fn run(cli: Cli) -> Result<(), String> {
    let wall = Instant::now();
    let cancel = CancelToken::new();
    match cli.command {
        Command::List(args) => commands::list::run(args),
        Command::Info(args) => commands::info::run(args),
        Command::Flash(args) => commands::flash::run(args, wall, &cancel),
        Command::Pack(PackArgs {
            device,
            bcd_device,
            alt,
            name,
            output,
            json,
            inputs,
        }) => {
            let mut targets: Vec<Target> = Vec::new();
            for input in &inputs {
                let img = load_input(input, alt)?;
                for t in img.targets {
                    match targets.iter_mut().find(|x| x.alt == t.alt) {
                        Some(x) => x.segments.extend(t.segments),
                        None => targets.push(t),
                    }
                }
            }
            if name.is_some() {
                for t in &mut targets {
                    t.name = name.clone();
                }
            }
            let img = Image::new(targets)
                .map_err(|e| format!("cannot pack {}: {e}", inputs.join(" ")))?;
            let file = dfuse::write(&img, device.0, device.1, bcd_device);
            std::fs::write(&output, &file)
                .map_err(|e| format!("cannot write {}: {e}", output.display()))?;
            let (_, written) =
                image::load(&output, &LoadOptions::default()).map_err(|e| e.to_string())?;
            if json {
                println!("{}", describe_image(Some(Format::Dfuse), &written));
            } else {
                print_image(Some(Format::Dfuse), &written);
                eprintln!("wrote {} ({} bytes)", output.display(), file.len());
            }
            Ok(())
        }
        Command::Inspect(args) => commands::inspect::run(args),
        Command::Suffix { action } => suffix_command(action),
        Command::Read(args) => commands::read::run(args, &cancel),
        Command::Erase(args) => commands::erase::run(args, wall, &cancel),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("dfuflash: error: {message}");
            ExitCode::FAILURE
        }
    }
}
