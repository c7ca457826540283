//! `-d`/`-w FILE [ADDR]`: the file through dfuflash's flash job (compare, erase, write, read-back
//! verify, boot block last, the Rev V recovery) with CubeProgrammer's lines and bar.

use std::path::Path;

use dfuflash::image::{self, FormatError, Image, LoadOptions};
use dfuflash::job::{self, FlashOptions, Report};
use dfuflash::progress::{CancelToken, Event, Flow, Phase};

use super::board::Board;
use super::output::{elapsed, size, Out};

/// What a download left for the operations after it.
pub struct Downloaded {
    /// The image's lowest address, where `-s` with no address starts it.
    pub first_address: Option<u32>,
}

/// The job's events as CubeProgrammer's lines: the erase lines, then one bar for the bytes
/// written (the boot block, written last, included).
struct Lines<'a> {
    out: &'a mut Out,
    len: u64,
    mass_erase: bool,
    // Bytes of the write phases begun so far, and where the current one starts.
    committed: u64,
    base: u64,
    downloading: bool,
}

impl Lines<'_> {
    fn start_download(&mut self) {
        if !std::mem::replace(&mut self.downloading, true) {
            if self.mass_erase {
                self.out.line("Mass erase successfully achieved");
            }
            self.out.line("Download in Progress:");
            self.out.bar(0, self.len);
        }
    }

    fn event(&mut self, ev: &Event<'_>) -> Flow {
        match *ev {
            Event::PhaseStart { phase, total } => match phase {
                Phase::Erase if self.mass_erase => self.out.line("Mass erase ..."),
                Phase::Erase => self
                    .out
                    .line("Erasing memory corresponding to segment 0:"),
                Phase::Write => {
                    self.start_download();
                    self.base = self.committed;
                    self.committed += total;
                }
                Phase::Boot => self.start_download(),
                _ => {}
            },
            Event::Progress {
                phase,
                done,
                address,
                sector,
                ..
            } => match phase {
                Phase::Erase => {
                    if let Some(s) = sector {
                        self.out
                            .line(format!("erasing sector {:04} @: {address:#010x} done", s.index));
                    }
                }
                Phase::Write => self.out.bar(self.base + done, self.len),
                // Written, then read back: counted twice.
                Phase::Boot => self.out.bar(self.committed + done / 2, self.len),
                _ => {}
            },
            Event::Log { level, message } => self.out.log(level, message),
            Event::Workaround { address } => self.out.line(format!(
                "dfuflash: sector {address:#010x} stuck in dfuDNBUSY (STM32H7 Rev V erase wedge); recovered as ST's programmer does"
            )),
            _ => {}
        }
        Flow::Continue
    }
}

/// The file as the board takes it: a .bin at ADDR; the other formats carry their addresses (an
/// ADDR given with them is not needed, as CubeProgrammer does not need it).
fn load(out: &mut Out, file: &str, address: Option<u32>) -> Result<Image, String> {
    let mut o = LoadOptions::default();
    o.address = address;
    let loaded = match image::load(Path::new(file), &o) {
        Err(FormatError::AddressNotAllowed { .. }) => {
            out.line(format!(
                "dfuflash: {file} carries its own addresses; {:#010x} is not used",
                address.unwrap_or_default()
            ));
            o.address = None;
            image::load(Path::new(file), &o)
        }
        other => other,
    };
    // CubeProgrammer reads a file by its extension: one named for a format with addresses
    // whose bytes are not that format is refused, never written as raw bytes.
    if let (Ok((image::Format::Raw, _)), Some(kind)) = (&loaded, addressed_kind(file)) {
        return Err(format!(
            "Error: {file}: not a valid {kind} file (its name says so); nothing was written"
        ));
    }
    loaded.map(|(_, i)| i).map_err(|e| match e {
        FormatError::RawNeedsAddress { .. } => {
            format!("Error: {file}: a binary file needs its address: -d {file} 0x08000000")
        }
        FormatError::Io { .. } if !Path::new(file).exists() => {
            format!("Error: file does not exist: {file}")
        }
        FormatError::Io { detail, .. } => format!("Error: cannot read {file}: {detail}"),
        e => format!("Error: {e}"),
    })
}

/// The format a file's extension names, when that format carries its own addresses.
fn addressed_kind(file: &str) -> Option<&'static str> {
    let ext = Path::new(file).extension()?.to_str()?.to_ascii_lowercase();
    Some(match ext.as_str() {
        "hex" | "ihex" => "Intel HEX",
        "srec" | "s19" | "s28" | "s37" | "mot" => "Motorola S-record",
        "elf" | "axf" | "out" => "ELF",
        "dfu" => "DfuSe",
        _ => return None,
    })
}

pub fn download(
    out: &mut Out,
    board: &mut Board,
    file: &str,
    address: Option<u32>,
    mass_erase: bool,
) -> Result<Downloaded, String> {
    out.line("");
    out.line("Memory Programming ...");
    out.line(format!("Opening and parsing file: {}", base_name(file)));
    let image = load(out, file, address)?;
    let first_address = image
        .targets
        .iter()
        .flat_map(|t| t.segments.iter().map(|s| s.address))
        .min();
    out.line(format!("  File          : {}", base_name(file)));
    out.line(format!("  Size          : {}", size(image.len())));
    if let Some(a) = first_address {
        out.line(format!("  Address       : {a:#010x}"));
    }
    out.line("");
    let mut opts = FlashOptions::default();
    opts.mass_erase = mass_erase;
    let mut lines = Lines {
        out,
        len: image.len(),
        mass_erase,
        committed: 0,
        base: 0,
        downloading: false,
    };
    let result = job::flash(
        &mut board.dfu,
        &image,
        &opts,
        &mut |ev: &Event<'_>| lines.event(ev),
        &CancelToken::new(),
    );
    board.save();
    let report = match result {
        Ok(r) => r,
        Err(e) => {
            let out = lines.out;
            out.line(format!("Error: {e}"));
            out.line("Error: failed to download Segment[0]");
            out.line("Error: failed to download the File");
            return Err(String::new());
        }
    };
    lines.start_download();
    let out = lines.out;
    out.bar(image.len(), image.len());
    out.line("");
    out.line("File download complete");
    out.line(format!(
        "Time elapsed during download operation: {}",
        elapsed(report.elapsed)
    ));
    dfuflash_lines(out, &report);
    Ok(Downloaded { first_address })
}

/// What dfuflash did beyond CubeProgrammer's lines, on lines of its own.
fn dfuflash_lines(out: &mut Out, r: &Report) {
    if !r.sectors_skipped.is_empty() {
        out.line(format!(
            "dfuflash: {} of {} sector(s) already held the image: compared and left alone",
            r.sectors_skipped.len(),
            r.sectors_planned
        ));
    }
    if let Some(a) = r.boot_block {
        out.line(format!(
            "dfuflash: the boot block at {a:#010x} was written last, after the rest was verified"
        ));
    }
    if r.bytes_verified > 0 {
        out.line(format!(
            "dfuflash: verified {} bytes by read-back",
            r.bytes_verified
        ));
    }
}

pub fn base_name(file: &str) -> &str {
    Path::new(file)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or(file)
}
