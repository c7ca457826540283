//! The modes of the personality: list, download, upload, detach and DfuSe command mode, each
//! printing what dfu-util prints, on the same stream, and failing with its exit codes.

use std::path::Path;
use std::time::{Duration, Instant};

use dfuflash::device::{self, AnyTransport, Entry};
use dfuflash::image::{self, Format, FormatError, Image, ImageError, LoadOptions};
use dfuflash::job::{self, FlashOptions};
use dfuflash::layout::Layout;
use dfuflash::progress::{CancelToken, Event, Flow, Phase};
use dfuflash::protocol::{Dfu, EngineOptions, ProtocolError, State};
use dfuflash::transport::{Mode, Transport};
use dfuflash::Error;

use super::args::{DfuUtilArgs, HELP};
use super::output::{banner, found_lines, state_line, Bar};
use super::select::{DfuseOptions, Ids};
use super::{exit, Failure};

/// How long `-w` waits for a board (dfu-util waits forever; IDEs kill it after 300 s).
const WAIT: Duration = Duration::from_secs(300);

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

/// An error of the library as dfu-util's exit code and line.
fn fail(e: Error) -> Failure {
    let code = match &e {
        Error::Format(FormatError::Io { .. }) => exit::NOINPUT,
        Error::Format(_) => exit::DATAERR,
        Error::Plan(_) | Error::SuffixMismatch { .. } | Error::InvalidArgument(_) => exit::USAGE,
        Error::Image(ImageError::AltMismatch { .. }) => exit::USAGE,
        Error::Protocol(ProtocolError::UnexpectedState { .. }) => exit::PROTOCOL,
        _ => exit::IOERR,
    };
    Failure::new(code, e.to_string())
}

fn list(a: &DfuUtilArgs) -> Result<(), Failure> {
    for e in matching(a).map_err(fail)? {
        for line in found_lines(&e) {
            println!("{line}");
        }
    }
    Ok(())
}

/// The devices the selection options match (before -a).
fn matching(a: &DfuUtilArgs) -> Result<Vec<Entry>, Error> {
    let ids = a.device.as_deref().map_or_else(Ids::any, Ids::parse);
    Ok(device::list(false)?
        .into_iter()
        .filter(|e| ids.matches(e))
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
    let alts = &e.info.alt_settings;
    match a.alt.as_deref().map(str::trim) {
        None => alts.iter().map(|x| x.alt).collect(),
        Some(s) => match parse_u8(s) {
            Some(n) => alts.iter().filter(|x| x.alt == n).map(|x| x.alt).collect(),
            None => alts.iter().filter(|x| x.name == s).map(|x| x.alt).collect(),
        },
    }
}

fn parse_u8(s: &str) -> Option<u8> {
    match s.strip_prefix("0x") {
        Some(h) => u8::from_str_radix(h, 16).ok(),
        None => s.parse().ok(),
    }
}

/// The one device and alt setting to use. Several alt settings of one device are fine for a
/// DfuSe file (each target names its own); anything else ambiguous is dfu-util's error.
fn choose(a: &DfuUtilArgs, dfuse_file: bool) -> Result<(Entry, u8), Failure> {
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
                    format!("No DFU capable USB device appeared within {} s", WAIT.as_secs()),
                ))
            }
            0 => return Err(Failure::new(exit::IOERR, "No DFU capable USB device available")),
            1 => return Ok(candidates.remove(0)),
            _ if dfuse_file && one_device => {
                println!("Multiple alternate interfaces for DfuSe file");
                return Ok(candidates.remove(0));
            }
            _ => return Err(Failure::new(
                exit::IOERR,
                "More than one DFU capable USB device found! Try `--list' and specify the serial number or disconnect all but one device",
            )),
        }
    }
}

/// Opens the chosen device and prints what dfu-util prints while it does.
fn open(entry: &Entry, alt: u8) -> Result<Dfu<AnyTransport>, Failure> {
    println!("Opening DFU capable USB device...");
    let i = &entry.info;
    println!("Device ID {:04x}:{:04x}", i.vendor_id, i.product_id);
    println!("Device DFU version {:04x}", i.functional.dfu_version);
    let t = device::open(entry, Duration::from_secs(10)).map_err(fail)?;
    println!("Claiming USB DFU Interface...");
    println!("Setting Alternate Interface #{alt} ...");
    let mut dfu = Dfu::open(t, alt, EngineOptions::default()).map_err(|e| fail(e.into()))?;
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

/// Where the board went after the job, and -R / -Q.
fn finish(a: &DfuUtilArgs, dfu: &mut Dfu<AnyTransport>, left: bool, save: Option<&Path>) {
    if let (Some(path), Some(sim)) = (save, dfu.transport().sim()) {
        let _ = sim.save_state(path);
    }
    if (a.reset || a.quit_reset) && !left {
        println!("Resetting USB to switch back to Run-Time mode");
        // The board going away is what a reset is for.
        let _ = dfu.transport_mut().reset();
    }
}

/// Prints the job's progress as dfu-util's Erase and Download bars, and keeps what dfuflash
/// adds for the lines after them.
struct Bars {
    bytes: u64,
    erase: Bar,
    download: Bar,
    recovered: Vec<u32>,
}

impl Bars {
    fn event(&mut self, ev: &Event<'_>) -> Flow {
        match *ev {
            Event::PhaseStart { phase, total } => match phase {
                Phase::Erase => self.erase.show(0, 1),
                Phase::Write => {
                    self.finish_erase();
                    self.download.show(0, total.max(1))
                }
                _ => {}
            },
            Event::Progress {
                phase, done, total, ..
            } => match phase {
                // dfu-util counts the erase in bytes of the element.
                Phase::Erase => self
                    .erase
                    .show(self.bytes * done / total.max(1), self.bytes),
                Phase::Write => self.download.show(done, total),
                _ => {}
            },
            Event::Workaround { address } => self.recovered.push(address),
            _ => {}
        }
        Flow::Continue
    }

    fn finish_erase(&mut self) {
        self.erase.show(self.bytes, self.bytes);
        for s in &self.recovered {
            println!("dfuflash: sector {s:#010x} stuck in dfuDNBUSY (STM32H7 Rev V erase wedge, dfu-util ticket #88); recovered as ST's programmer does");
        }
        self.recovered.clear();
    }
}

fn download(a: &DfuUtilArgs, file: &str, o: DfuseOptions) -> Result<(), Failure> {
    let path = Path::new(file);
    let bytes = std::fs::read(path).map_err(|e| {
        Failure::new(
            exit::NOINPUT,
            format!("Could not open file {file} for reading: {e}"),
        )
    })?;
    let dfuse_file = image::dfuse::detect(&bytes);
    if dfuse_file && o.address.is_some() {
        return Err(Failure::new(
            exit::USAGE,
            "This is a DfuSe file, not meant for raw download",
        ));
    }
    let (entry, alt) = choose(a, dfuse_file)?;
    let is_dfuse_device = entry.info.functional.is_dfuse();
    if is_dfuse_device && !dfuse_file && o.address.is_none() && o.length.is_none() {
        eprintln!("dfu-util: Only DfuSe file version 1.1a is supported");
        return Err(Failure::new(
            exit::USAGE,
            "(for raw binary download, use the --dfuse-address option)",
        ));
    }
    let mut lopts = LoadOptions::default();
    lopts.address = (!dfuse_file).then(|| o.address.unwrap_or(0));
    lopts.alt = alt;
    let (format, image) = image::parse(&bytes, file, &lopts).map_err(|e| fail(e.into()))?;
    if format != Format::Dfuse && image.suffix.is_none() {
        let why = if bytes.len() < 16 {
            "File too short for DFU suffix"
        } else {
            "Invalid DFU suffix signature"
        };
        eprintln!("dfu-util: Warning: {why}");
        eprintln!("dfu-util: A valid DFU suffix will be required in a future dfu-util release");
    }
    let mut dfu = open(&entry, alt)?;
    let mut flash_opts = FlashOptions::default();
    flash_opts.leave = o.leave && is_dfuse_device;
    flash_opts.leave_address = o.address;
    flash_opts.mass_erase = o.mass_erase && o.force;
    // Option bytes and OTP only with dfu-util's own "you know what you are doing".
    flash_opts.allow_option_bytes = o.force;
    flash_opts.allow_otp = o.force;
    describe_download(&image, format, is_dfuse_device);
    let size = image.targets.iter().map(|t| t.len()).sum();
    let mut bars = Bars {
        bytes: size,
        erase: Bar::new("Erase   "),
        download: Bar::new("Download"),
        recovered: Vec::new(),
    };
    let result = job::flash(
        &mut dfu,
        &image,
        &flash_opts,
        &mut |ev: &Event<'_>| bars.event(ev),
        &CancelToken::new(),
    );
    let report = match result {
        Ok(r) => r,
        Err(e) => {
            println!();
            finish(a, &mut dfu, false, entry.state_file());
            return Err(fail(e));
        }
    };
    if report.bytes_verified > 0 {
        println!(
            "dfuflash: verified {} bytes by read-back{}",
            report.bytes_verified,
            if report.workaround_sectors.is_empty() {
                String::new()
            } else {
                format!(
                    ", and every byte of the {} recovered sector(s)",
                    report.workaround_sectors.len()
                )
            }
        );
    }
    if !is_dfuse_device {
        println!("Done!");
    } else if format == Format::Dfuse {
        println!("Done parsing DfuSe file");
    } else {
        println!("File downloaded successfully");
    }
    if report.left.is_some() {
        println!("Submitting leave request...");
        println!("Transitioning to dfuMANIFEST state");
    }
    finish(a, &mut dfu, report.left.is_some(), entry.state_file());
    Ok(())
}

/// The lines dfu-util prints about the file before it writes it.
fn describe_download(image: &Image, format: Format, dfuse_device: bool) {
    if !dfuse_device {
        println!("Copying data from PC to DFU device");
        return;
    }
    if format != Format::Dfuse {
        for t in &image.targets {
            for s in &t.segments {
                println!(
                    "Downloading element to address = {:#010x}, size = {}",
                    s.address,
                    s.data.len()
                );
            }
        }
        return;
    }
    println!("File contains {} DFU images", image.targets.len());
    for (i, t) in image.targets.iter().enumerate() {
        println!("Parsing DFU image {}", i + 1);
        match &t.name {
            Some(n) => println!("Target name: {n}"),
            None => println!("No target name"),
        }
        println!(
            "Image for alternate setting {}, ({} elements, total size = {})",
            t.alt,
            t.segments.len(),
            t.len()
        );
        println!("Setting Alternate Interface #{} ...", t.alt);
        for (k, s) in t.segments.iter().enumerate() {
            println!(
                "Parsing element {}, address = {:#010x}, size = {}",
                k + 1,
                s.address,
                s.data.len()
            );
        }
    }
}

fn upload(a: &DfuUtilArgs, file: &str, o: DfuseOptions) -> Result<(), Failure> {
    if Path::new(file).exists() {
        return Err(Failure::new(
            exit::CANTCREAT,
            format!("Cannot open file {file} for writing: File exists"),
        ));
    }
    let (entry, alt) = choose(a, false)?;
    let mut dfu = open(&entry, alt)?;
    let (address, length) = if dfu.is_dfuse() {
        let address = o.address.ok_or_else(|| {
            Failure::new(exit::USAGE, "Unbound upload not supported on DfuSe devices")
        })?;
        let length = match o.length {
            Some(n) => n,
            None => {
                let n = segment_end(&dfu, address).saturating_sub(address as u64) as u32;
                println!("Limiting upload to end of memory segment, {n} bytes");
                n
            }
        };
        (address, length)
    } else {
        println!("Copying data from DFU device to PC");
        (0, a.upload_size.unwrap_or(16 << 20))
    };
    let mut bar = Bar::new("Upload");
    bar.show(0, 1);
    let data = job::read(
        &mut dfu,
        address,
        length,
        &mut |ev: &Event<'_>| {
            if let Event::Progress { done, total, .. } = *ev {
                bar.show(done, total);
            }
            Flow::Continue
        },
        &CancelToken::new(),
    )
    .map_err(fail)?;
    bar.show(data.len() as u64, data.len() as u64);
    std::fs::write(file, &data).map_err(|e| {
        Failure::new(
            exit::CANTCREAT,
            format!("Cannot open file {file} for writing: {e}"),
        )
    })?;
    if !dfu.is_dfuse() {
        println!("Received a total of {} bytes", data.len());
    }
    if o.leave && dfu.is_dfuse() {
        println!("Submitting leave request...");
        job::leave(&mut dfu, None).map_err(fail)?;
    }
    finish(a, &mut dfu, o.leave, entry.state_file());
    Ok(())
}

/// One past the end of the memory segment (layout group) that holds `address`.
fn segment_end(dfu: &Dfu<AnyTransport>, address: u32) -> u64 {
    let name = dfu
        .info()
        .alt(dfu.alt())
        .map(|x| x.name.clone())
        .unwrap_or_default();
    Layout::parse(&name)
        .ok()
        .and_then(|l| {
            l.groups
                .iter()
                .find(|g| (g.start as u64..g.end()).contains(&(address as u64)))
                .map(|g| g.end())
        })
        .unwrap_or(address as u64)
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
    let mut dfu = open(&entry, alt)?;
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
        println!("Submitting leave request...");
        job::leave(&mut dfu, o.address).map_err(fail)?;
    }
    finish(a, &mut dfu, o.leave, entry.state_file());
    Ok(())
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
