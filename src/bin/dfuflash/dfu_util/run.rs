//! The modes of the personality: the dispatch, list, detach and DfuSe command mode; `-D` and
//! `-U` have their own files. Every failure is dfu-util's exit code and one line.

use std::time::Duration;

use dfuflash::device;
use dfuflash::job;
use dfuflash::progress::{CancelToken, Event, Flow};
use dfuflash::protocol::{Dfu, EngineOptions};
use dfuflash::transport::Mode;

use super::args::{DfuUtilArgs, HELP};
use super::board::{choose, finish, matching, open};
use super::download::{download, submit_leave};
use super::failure::fail;
use super::output::{banner, found_lines};
use super::select::DfuseOptions;
use super::upload::upload;
use super::{exit, Failure};

pub fn run(a: &DfuUtilArgs) -> Result<(), Failure> {
    banner();
    if a.version {
        return Ok(());
    }
    if a.list {
        return list(a);
    }
    let dfuse = match &a.dfuse_address {
        Some(s) => Some(DfuseOptions::parse(s).map_err(|m| Failure::new(exit::USAGE, m))?),
        None => None,
    };
    if let Some(file) = &a.upload {
        return upload(a, file, dfuse.unwrap_or_default());
    }
    if let Some(file) = &a.download {
        return download(a, file, dfuse.unwrap_or_default());
    }
    if let Some(o) = dfuse {
        return command_mode(a, o);
    }
    if a.detach {
        return detach(a);
    }
    eprintln!("You need to specify one of -D or -U");
    eprint!("{HELP}");
    Err(Failure::new(exit::USAGE, ""))
}

fn list(a: &DfuUtilArgs) -> Result<(), Failure> {
    for e in matching(a).map_err(fail)? {
        for line in found_lines(&e) {
            println!("{line}");
        }
    }
    Ok(())
}

/// `-s` without -D or -U: leave, mass erase or read unprotect.
fn command_mode(a: &DfuUtilArgs, o: DfuseOptions) -> Result<(), Failure> {
    if (o.mass_erase || o.unprotect) && !o.force {
        return Err(Failure::new(
            exit::USAGE,
            if o.mass_erase {
                "The mass erase command can only be used with force"
            } else {
                "The read unprotect command will erase the flash memory and can only be used with force"
            },
        ));
    }
    let (entry, alt) = choose(a, false)?;
    let mut dfu = open(a, &entry, alt, false)?;
    println!("DfuSe command mode");
    let none = &mut |_: &Event<'_>| Flow::Continue;
    if o.unprotect {
        println!("Device disconnects, erases flash and resets now");
        job::read_unprotect(&mut dfu, none).map_err(fail)?;
    } else if o.mass_erase {
        println!("Performing mass erase, this can take a moment");
        job::mass_erase(&mut dfu, none, &CancelToken::new()).map_err(fail)?;
    }
    if o.leave {
        submit_leave(&mut dfu, o.address, entry.state_file())?;
    }
    finish(a, &mut dfu, o.leave, entry.state_file())
}

/// `-e`: a device in runtime mode is detached (and re-enumerates in DFU mode).
fn detach(a: &DfuUtilArgs) -> Result<(), Failure> {
    let (entry, alt) = choose(a, false)?;
    if entry.info.mode == Mode::Runtime {
        println!("Device really in Run-Time Mode, send DFU detach request...");
    }
    let t = device::open(&entry, Duration::from_secs(10)).map_err(fail)?;
    if entry.info.mode != Mode::Runtime {
        let mut dfu = Dfu::open(t, alt, EngineOptions::default()).map_err(|e| fail(e.into()))?;
        if dfu.detach().is_err() {
            eprintln!("dfu-util: can't detach");
        }
    }
    Ok(())
}
