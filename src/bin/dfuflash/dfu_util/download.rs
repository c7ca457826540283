//! `-D`: a raw binary at the `-s` address, a DfuSe file, or a plain DFU 1.1 image, with the
//! Erase and Download bars; what dfuflash adds (the Rev V recovery, the read-back) follows them.

use std::path::Path;

use dfuflash::device::AnyTransport;
use dfuflash::image::{self, Format, Image, LoadOptions};
use dfuflash::job::{self, FlashOptions};
use dfuflash::progress::{CancelToken, Event, Flow, Phase};
use dfuflash::protocol::{Dfu, LeaveOutcome};
use dfuflash::transport::Mode;

use super::args::DfuUtilArgs;
use super::board::{choose, finish, open, save};
use super::failure::fail;
use super::output::Bar;
use super::select::DfuseOptions;
use super::{exit, Failure};

/// One element of the file, as dfu-util announces it: the lines it prints before the
/// element's bars, and the element's bytes, which its bars count.
struct Element {
    lines: Vec<String>,
    bytes: u64,
}

/// Prints the job's progress as dfu-util's Erase and Download bars, a pair per element (the
/// job runs element by element: each step starts its Erase phase), and keeps what dfuflash
/// adds for the lines after them.
struct Bars {
    elements: std::vec::IntoIter<Element>,
    bytes: u64,
    erase: Bar,
    download: Bar,
    // The current element's Erase bar is running (DFU 1.1 devices have none).
    erasing: bool,
    recovered: Vec<u32>,
    // The job got as far as the leave request.
    leaving: bool,
}

impl Bars {
    fn new(elements: Vec<Element>) -> Self {
        Bars {
            elements: elements.into_iter(),
            bytes: 0,
            erase: Bar::new("Erase   "),
            download: Bar::new("Download"),
            erasing: false,
            recovered: Vec::new(),
            leaving: false,
        }
    }

    /// The next element's lines and fresh bars, as dfu-util starts each element.
    fn next_element(&mut self) -> bool {
        let Some(e) = self.elements.next() else {
            return false;
        };
        for line in &e.lines {
            println!("{line}");
        }
        self.bytes = e.bytes;
        self.erase = Bar::new("Erase   ");
        self.download = Bar::new("Download");
        true
    }

    fn event(&mut self, ev: &Event<'_>) -> Flow {
        match *ev {
            Event::PhaseStart { phase, total } => match phase {
                Phase::Erase => {
                    self.next_element();
                    self.erasing = true;
                    self.erase.show(0, 1)
                }
                Phase::Write => {
                    if std::mem::take(&mut self.erasing) {
                        self.finish_erase();
                    } else {
                        self.next_element();
                    }
                    if total == 0 {
                        // Every sector already held the image: nothing to send, all of it there.
                        self.download.show(self.bytes, self.bytes)
                    } else {
                        self.download.show(0, total)
                    }
                }
                Phase::Leave => self.leaving = true,
                _ => {}
            },
            Event::Progress {
                phase, done, total, ..
            } => match phase {
                // dfu-util counts the erase in bytes of the element.
                Phase::Erase => self
                    .erase
                    .show(self.bytes * done / total.max(1), self.bytes),
                // Against the element's bytes: the boot block, written last on its own, is not
                // in the write phase's total.
                Phase::Write => self
                    .download
                    .show(self.bytes * done / total.max(1), self.bytes),
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

    /// Elements the job had nothing to do for still get their lines and full bars.
    fn finish(&mut self) {
        while self.next_element() {
            self.finish_erase();
            self.download.show(self.bytes, self.bytes);
        }
    }
}

pub(super) fn download(a: &DfuUtilArgs, file: &str, o: DfuseOptions) -> Result<(), Failure> {
    let path = Path::new(file);
    let bytes = std::fs::read(path).map_err(|e| {
        // The system's words, as dfu-util prints them ("No such file or directory").
        let text = e.to_string();
        let text = text.split(" (os error").next().unwrap_or_default();
        Failure::new(
            exit::NOINPUT,
            format!("Could not open file {file} for reading: {text}"),
        )
    })?;
    if o.mass_erase && !o.force {
        return Err(Failure::new(
            exit::USAGE,
            "The mass erase command can only be used with force",
        ));
    }
    let dfuse_file = image::dfuse::detect(&bytes);
    if dfuse_file && o.address.is_some() {
        return Err(Failure::new(
            exit::USAGE,
            "This is a DfuSe file, not meant for raw download",
        ));
    }
    let (entry, alt) = choose(a, dfuse_file)?;
    let raw_for_dfuse = |is_dfuse_device: bool| {
        if is_dfuse_device && !dfuse_file && o.address.is_none() && o.length.is_none() {
            eprintln!("dfu-util: Only DfuSe file version 1.1a is supported");
            return Err(Failure::new(
                exit::USAGE,
                "(for raw binary download, use the --dfuse-address option)",
            ));
        }
        Ok(())
    };
    // A device running its application shows what it speaks in DFU mode only after the
    // detach: that is asked of the re-enumerated device.
    let runtime = entry.info.mode == Mode::Runtime;
    if !runtime {
        raw_for_dfuse(entry.info.functional.is_dfuse())?;
    }
    // The file is read before the device is touched, as dfu-util reads it.
    let mut lopts = LoadOptions::default();
    lopts.address = (!dfuse_file).then(|| o.address.unwrap_or(0));
    lopts.alt = alt;
    let (format, mut image) = image::parse(&bytes, file, &lopts).map_err(|e| fail(e.into()))?;
    if format != Format::Dfuse && image.suffix.is_none() {
        let why = if bytes.len() < 16 {
            "File too short for DFU suffix"
        } else {
            "Invalid DFU suffix signature"
        };
        eprintln!("dfu-util: Warning: {why}");
        eprintln!("dfu-util: A valid DFU suffix will be required in a future dfu-util release");
    }
    let mut dfu = open(a, &entry, alt, dfuse_file)?;
    let is_dfuse_device = dfu.is_dfuse();
    if runtime {
        raw_for_dfuse(is_dfuse_device)?;
        // A file without targets goes to the alt setting -a named after the detach.
        if format != Format::Dfuse {
            for t in &mut image.targets {
                t.alt = dfu.alt();
            }
        }
    }
    let mut flash_opts = FlashOptions::default();
    flash_opts.leave = o.leave && is_dfuse_device;
    flash_opts.leave_address = o.address;
    flash_opts.mass_erase = o.mass_erase && o.force;
    // Option bytes and OTP only with dfu-util's own "you know what you are doing".
    flash_opts.allow_option_bytes = o.force;
    flash_opts.allow_otp = o.force;
    // dfu-util's order: element by element, each erased just before it is written.
    flash_opts.element_order = true;
    let mut bars = Bars::new(elements(&image, format, is_dfuse_device));
    let result = job::flash(
        &mut dfu,
        &image,
        &flash_opts,
        &mut |ev: &Event<'_>| bars.event(ev),
        &CancelToken::new(),
    );
    let report = match result {
        Ok(r) => {
            bars.finish();
            r
        }
        Err(e) => {
            if bars.leaving {
                // Written and verified (the bars are done): only the leave failed.
                println!("{}", done_line(is_dfuse_device, format));
                println!("Submitting leave request...");
            } else {
                println!();
            }
            save(&dfu, entry.state_file());
            return Err(fail(e));
        }
    };
    if !report.sectors_skipped.is_empty() {
        println!(
            "dfuflash: {} sector(s) already held the image: compared and left alone",
            report.sectors_skipped.len()
        );
        println!(
            "dfuflash: resumed: {} of {} sectors already held the image",
            report.sectors_skipped.len(),
            report.sectors_planned
        );
    }
    if let Some(address) = report.boot_block {
        println!(
            "dfuflash: the boot block at {address:#010x} was written last, after the rest{}",
            if report.bytes_verified > 0 {
                " was verified"
            } else {
                ""
            }
        );
    }
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
    println!("{}", done_line(is_dfuse_device, format));
    if let Some(left) = report.left {
        println!("Submitting leave request...");
        left_lines(left);
    }
    finish(a, &mut dfu, report.left.is_some(), entry.state_file())
}

/// dfu-util's line after the last element.
fn done_line(is_dfuse_device: bool, format: Format) -> &'static str {
    if !is_dfuse_device {
        "Done!"
    } else if format == Format::Dfuse {
        "Done parsing DfuSe file"
    } else {
        "File downloaded successfully"
    }
}

/// `:leave`: dfu-util's "Submitting leave request...", the leave (to `address`, else where the
/// device's pointer is), and what the board did. A failure keeps the simulated board's state.
pub(super) fn submit_leave(
    dfu: &mut Dfu<AnyTransport>,
    address: Option<u32>,
    state: Option<&Path>,
) -> Result<(), Failure> {
    println!("Submitting leave request...");
    let report = job::leave(dfu, address).map_err(|e| {
        save(dfu, state);
        fail(e)
    })?;
    if let Some(left) = report.left {
        left_lines(left);
    }
    Ok(())
}

/// What the board did after "Submitting leave request...": dfu-util's line when it reported
/// manifestation; dfuflash's when it went without saying so (dfu-util would fail there).
fn left_lines(left: LeaveOutcome) {
    match left {
        LeaveOutcome::Manifested => println!("Transitioning to dfuMANIFEST state"),
        LeaveOutcome::Disconnected => {
            println!(
                "dfuflash: the board left DFU mode (gone from the bus after the leave request)"
            )
        }
        _ => {}
    }
}

/// The file's elements with the lines dfu-util prints before each one's bars (a DfuSe file's
/// image and element lines); what it prints about a raw or DFU 1.1 file, printed at once.
fn elements(image: &Image, format: Format, dfuse_device: bool) -> Vec<Element> {
    let whole = |lines| {
        vec![Element {
            lines,
            bytes: image.len(),
        }]
    };
    if !dfuse_device {
        println!("Copying data from PC to DFU device");
        return whole(Vec::new());
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
        return whole(Vec::new());
    }
    println!("File contains {} DFU images", image.targets.len());
    let mut out = Vec::new();
    for (i, t) in image.targets.iter().enumerate() {
        let mut lines = vec![format!("Parsing DFU image {}", i + 1)];
        lines.push(match &t.name {
            Some(n) => format!("Target name: {n}"),
            None => "No target name".to_string(),
        });
        // dwTargetSize: the elements with their 8-byte headers.
        lines.push(format!(
            "Image for alternate setting {}, ({} elements, total size = {})",
            t.alt,
            t.segments.len(),
            t.len() + 8 * t.segments.len() as u64
        ));
        lines.push(format!("Setting Alternate Interface #{} ...", t.alt));
        for (k, s) in t.segments.iter().enumerate() {
            lines.push(format!(
                "Parsing element {}, address = {:#010x}, size = {}",
                k + 1,
                s.address,
                s.data.len()
            ));
            out.push(Element {
                lines: std::mem::take(&mut lines),
                bytes: s.data.len() as u64,
            });
        }
    }
    out
}
