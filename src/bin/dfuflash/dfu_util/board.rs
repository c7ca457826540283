//! Finding the board the way dfu-util does (`-d`, `-p`, `-S`, `-a`, `-w`), opening it with the
//! lines dfu-util prints while it does, and what happens to it at the end (`-R`, `-Q`).

use std::path::Path;
use std::time::{Duration, Instant};

use dfuflash::device::{self, AnyTransport, Entry};
use dfuflash::protocol::{Dfu, EngineOptions, State};
use dfuflash::transport::{AltSetting, DeviceInfo, Mode, Transport, TransportError};
use dfuflash::Error;

use super::args::DfuUtilArgs;
use super::failure::fail;
use super::output::state_line;
use super::select::Ids;
use super::{exit, Failure};
use crate::dropin::number;
pub(super) use crate::dropin::save;

/// dfu-util's words when several boards match, kept whole (IDEs look for them).
const MORE_THAN_ONE: &str = "More than one DFU capable USB device found! Try `--list' and specify the serial number or disconnect all but one device";

/// How long `-w` waits for a board (dfu-util waits forever; IDEs kill it after 300 s).
const WAIT: Duration = Duration::from_secs(300);

/// The devices the selection options match (before -a). One whose driver libusb cannot use
/// (Windows) gets dfu-util's warning, which IDEs look for, then dfuflash's advice, and is left
/// out, as dfu-util leaves it out.
pub(super) fn matching(a: &DfuUtilArgs) -> Result<Vec<Entry>, Error> {
    let ids = a.device.as_deref().map_or_else(Ids::any, Ids::parse);
    Ok(device::list(false)?
        .into_iter()
        .filter(|e| ids.matches(e))
        .filter(|e| match e.info.driver_problem.as_deref() {
            Some(problem) => {
                eprintln!(
                    "dfu-util: Cannot open DFU device {:04x}:{:04x} found on devnum 0 (LIBUSB_ERROR_NOT_SUPPORTED)",
                    e.info.vendor_id, e.info.product_id
                );
                eprintln!("dfuflash: it is {problem}");
                false
            }
            None => true,
        })
        .filter(|e| {
            a.path
                .as_ref()
                .is_none_or(|p| e.info.port_path.as_ref() == Some(p))
        })
        .filter(|e| {
            // -S RUNTIME[,DFU]: the second serial is for the device in DFU mode.
            a.serial.as_ref().is_none_or(|s| {
                let (run, dfu) = s.split_once(',').unwrap_or((s, s));
                let want = if e.info.mode == Mode::Runtime {
                    run
                } else {
                    dfu
                };
                e.info.serial.as_deref() == Some(want)
            })
        })
        .collect())
}

/// The alt settings of `e` that -a names (all of them without -a).
fn alts_of(a: &DfuUtilArgs, e: &Entry) -> Vec<u8> {
    if e.info.mode == Mode::Runtime {
        // Its DFU-mode alt settings show only after the detach, where open looks -a up.
        let n = a.alt.as_deref().and_then(|s| parse_u8(s.trim()));
        return vec![n.unwrap_or(0)];
    }
    match a.alt.as_deref() {
        None => e.info.alt_settings.iter().map(|x| x.alt).collect(),
        Some(s) => named(s, &e.info.alt_settings).map(|x| x.alt).collect(),
    }
}

/// The alt settings `-a S` names: by number, or by exact name, as dfu-util matches them.
fn named<'a>(s: &'a str, alts: &'a [AltSetting]) -> impl Iterator<Item = &'a AltSetting> {
    let s = s.trim();
    let n = parse_u8(s);
    alts.iter().filter(move |x| match n {
        Some(n) => x.alt == n,
        None => x.name == s,
    })
}

fn parse_u8(s: &str) -> Option<u8> {
    number(s).and_then(|n| u8::try_from(n).ok())
}

/// The alt setting `-a` names among those a detached device has in DFU mode. None of them:
/// dfu-util does not find the device again. Without -a, the device must have one, unless a
/// DfuSe file names its own: else dfu-util finds more than one.
fn alt_after_detach(a: &DfuUtilArgs, info: &DeviceInfo, dfuse_file: bool) -> Result<u8, Failure> {
    let alts = &info.alt_settings;
    let found = match a.alt.as_deref() {
        None if alts.len() > 1 && !dfuse_file => {
            println!(
                "dfuflash: in DFU mode the device has {} alt settings; choose one with -a",
                alts.len()
            );
            return Err(Failure::new(exit::IOERR, MORE_THAN_ONE));
        }
        None => alts.first(),
        Some(s) => named(s, alts).next(),
    };
    found.map(|x| x.alt).ok_or_else(|| {
        let names: Vec<String> = alts
            .iter()
            .map(|x| format!("{} {:?}", x.alt, x.name))
            .collect();
        println!(
            "dfuflash: in DFU mode the device has no alt setting {}; it has {}",
            a.alt.as_deref().unwrap_or_default(),
            names.join(", ")
        );
        Failure::new(exit::IOERR, "Lost device after RESET?")
    })
}

/// The one device and alt setting to use. Several alt settings of one device are fine for a
/// DfuSe file (each target names its own); anything else ambiguous is dfu-util's error.
pub(super) fn choose(a: &DfuUtilArgs, dfuse_file: bool) -> Result<(Entry, u8), Failure> {
    let deadline = Instant::now() + WAIT;
    if a.wait.is_some() {
        println!("Waiting for device, exit with ctrl-C");
    }
    loop {
        let found = matching(a).map_err(fail)?;
        let mut candidates: Vec<(Entry, u8)> = Vec::new();
        for e in found {
            for alt in alts_of(a, &e) {
                candidates.push((e.clone(), alt));
            }
        }
        let one_device = candidates
            .windows(2)
            .all(|w| w[0].0.info.port_path == w[1].0.info.port_path);
        match candidates.len() {
            0 if a.wait.is_some() && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(100))
            }
            0 if a.wait.is_some() => {
                return Err(Failure::new(
                    exit::IOERR,
                    format!(
                        "No DFU capable USB device appeared within {} s",
                        WAIT.as_secs()
                    ),
                ))
            }
            0 => {
                return Err(Failure::new(
                    exit::IOERR,
                    "No DFU capable USB device available",
                ))
            }
            1 => return Ok(candidates.remove(0)),
            _ if dfuse_file && one_device => {
                println!("Multiple alternate interfaces for DfuSe file");
                return Ok(candidates.remove(0));
            }
            _ => {
                // dfu-util's line, then which boards, by port path (every H7 ROM has one serial).
                let paths: Vec<String> = candidates
                    .iter()
                    .map(|(e, alt)| {
                        format!("{} alt {alt}", e.info.port_path.as_deref().unwrap_or("?"))
                    })
                    .collect();
                println!(
                    "dfuflash: matching: {}; choose with -p PATH and -a ALT",
                    paths.join(", ")
                );
                return Err(Failure::new(exit::IOERR, MORE_THAN_ONE));
            }
        }
    }
}

/// Opens the chosen device and prints what dfu-util prints while it does. A device in runtime
/// mode is detached first; `-a` then names one of the alt settings it has in DFU mode (any of
/// them for a DfuSe file, whose targets name their own).
pub(super) fn open(
    a: &DfuUtilArgs,
    entry: &Entry,
    alt: u8,
    dfuse_file: bool,
) -> Result<Dfu<AnyTransport>, Failure> {
    println!("Opening DFU capable USB device...");
    let i = &entry.info;
    println!("Device ID {:04x}:{:04x}", i.vendor_id, i.product_id);
    let runtime = i.mode == Mode::Runtime;
    if !runtime {
        println!("Device DFU version {:04x}", i.functional.dfu_version);
    }
    let t = device::open(entry, Duration::from_secs(10)).map_err(fail)?;
    let alt = if runtime {
        // What dfu-util prints as it detaches a device running its application.
        println!(
            "Run-time device DFU version {:04x}",
            i.functional.dfu_version
        );
        println!("Claiming USB DFU Runtime Interface...");
        println!("Device really in Runtime Mode, send DFU detach request...");
        println!(
            "{}",
            if i.functional.will_detach() {
                "Device will detach and reattach..."
            } else {
                "Resetting USB..."
            }
        );
        println!("Opening DFU USB Device...");
        alt_after_detach(a, t.info(), dfuse_file)?
    } else {
        alt
    };
    println!("Claiming USB DFU Interface...");
    println!("Setting Alternate Interface #{alt} ...");
    let mut dfu = Dfu::open(t, alt, EngineOptions::default()).map_err(|e| fail(e.into()))?;
    // After a detach, the device in DFU mode describes itself anew.
    let i = &dfu.info().clone();
    println!("Determining device status...");
    let st = dfu.get_status().map_err(|e| fail(e.into()))?;
    println!("{}", state_line(st.state, st.status));
    if st.state != State::DfuIdle {
        println!(
            "{}",
            if st.state == State::Error {
                "Clearing status"
            } else {
                "Aborting previous incomplete transfer"
            }
        );
        dfu.ensure_idle().map_err(|e| fail(e.into()))?;
        let st = dfu.get_status().map_err(|e| fail(e.into()))?;
        println!("{}", state_line(st.state, st.status));
    }
    println!(
        "DFU mode device DFU version {:04x}",
        i.functional.dfu_version
    );
    println!(
        "Device returned transfer size {}",
        i.functional.transfer_size
    );
    if dfu.is_dfuse() {
        // The name as the descriptor has it, padding included.
        let name = i.alt(alt).map(|x| x.name.as_str()).unwrap_or_default();
        let name = name
            .trim_start_matches('@')
            .split('/')
            .next()
            .unwrap_or_default();
        println!("DfuSe interface name: \"{name}\"");
    }
    Ok(dfu)
}

/// After a successful job: -R / -Q reset a board that did not leave by itself. -R sends what
/// dfu-util 0.11 sends, DFU_DETACH then the USB reset: OpenMV's bootloader starts its firmware
/// on either. The board gone is what was asked, so it is success (dfu-util 0.11 exits 251 when
/// libusb finds no device left to reset); a reset that fails otherwise is EX_IOERR.
pub(super) fn finish(
    a: &DfuUtilArgs,
    dfu: &mut Dfu<AnyTransport>,
    left: bool,
    state: Option<&Path>,
) -> Result<(), Failure> {
    if !(a.reset || a.quit_reset) || left {
        save(dfu, state);
        return Ok(());
    }
    if a.reset {
        if let Err(e) = dfu.detach() {
            if !e.is_disconnect() {
                eprintln!("dfu-util: can't detach");
            }
        }
    }
    println!("Resetting USB to switch back to Run-Time mode");
    let reset = dfu.transport_mut().reset();
    save(dfu, state);
    // A board that left on the DETACH leaves nothing to reset, and libusb says so in its own
    // words (NOT_FOUND, NO_DEVICE, or OTHER under Linux's dummy_hcd): a request that finds no
    // board is the proof that it left.
    let gone = match reset {
        Ok(()) | Err(TransportError::Disconnected) => true,
        Err(_) => dfu.get_status().is_err(),
    };
    if let (false, Err(e)) = (gone, reset) {
        return Err(Failure::new(
            exit::IOERR,
            format!("error resetting after download: {e}; the board is still in DFU mode"),
        ));
    }
    println!("dfuflash: the board left DFU mode (reset as asked)");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[test]
    fn after_a_detach_a_names_the_dfu_mode_alt_setting_by_number_or_name() {
        let info = dfuflash::sim::SimDevice::describe("zephyr-dfu").unwrap();
        let alt_for = |args: &[&str], dfuse_file: bool| {
            let a = DfuUtilArgs::try_parse_from([&["dfu-util"], args].concat()).unwrap();
            alt_after_detach(&a, &info, dfuse_file).map_err(|f| f.message)
        };
        let alt = |args: &[&str]| alt_for(args, false);
        assert_eq!(alt(&["-a", "image_1"]), Ok(1));
        assert_eq!(alt(&["--alt", "1"]), Ok(1));
        // Two alt settings and no -a: dfu-util's refusal, unless a DfuSe file names them.
        assert_eq!(alt(&[]), Err(MORE_THAN_ONE.into()));
        assert_eq!(alt_for(&[], true), Ok(0));
        assert_eq!(
            alt(&["-a", "image_9"]),
            Err("Lost device after RESET?".into())
        );
        assert_eq!(alt(&["-a", "7"]), Err("Lost device after RESET?".into()));
    }
}
