//! The command line: the clap definition of every command and option, and the parsers
//! for numbers, hex IDs and VID:PID pairs.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "dfuflash",
    version,
    about = "Flash USB DFU and ST DfuSe devices, STM32H7 Rev V included"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Erase, write and verify a firmware image.
    Flash(FlashArgs),
    /// Flash an ST FlashLayout.tsv through the serial-boot phase protocol (STM32N6, STM32MP).
    FlashLayout(FlashLayoutArgs),
    /// Build a DfuSe file from images of any format.
    Pack(PackArgs),
    /// Show a file's format, targets, segments and DFU suffix.
    Inspect(InspectArgs),
    /// Add, check or remove the DFU suffix of a file.
    Suffix {
        #[command(subcommand)]
        action: SuffixAction,
    },
    /// Read memory into a file.
    Read(ReadArgs),
    /// Erase the sectors of a range, or the whole flash.
    Erase(EraseArgs),
    /// Show a device's descriptors, alt settings and memory layouts.
    Info(InfoArgs),
    /// List devices.
    List(ListArgs),
}

/// Formats of `--events`.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EventsFormat {
    /// One JSON object per line on stdout (docs/events.schema.json).
    Json,
}

/// `--events FORMAT`, for the commands that run a job.
#[derive(Args, Clone, Copy)]
pub struct EventsArg {
    /// Write what happens as it happens, one JSON object per line on stdout (phases,
    /// progress, log lines, the Rev V recovery, then the result with the report), for programs
    /// that run the command; schema in docs/events.schema.json.
    #[arg(
        long = "events",
        id = "events",
        value_name = "FORMAT",
        conflicts_with = "json"
    )]
    pub format: Option<EventsFormat>,
}

#[derive(Args)]
pub struct FlashArgs {
    #[command(flatten)]
    pub device: DeviceArgs,
    /// Address of a raw binary.
    #[arg(long, value_parser = parse_u32)]
    pub address: Option<u32>,
    /// Skip reading back and comparing.
    #[arg(long)]
    pub no_verify: bool,
    /// Leave DFU mode and run the firmware after success.
    #[arg(long)]
    pub leave: bool,
    /// Jump address for --leave (default: the image's first address).
    #[arg(long, value_parser = parse_u32, requires = "leave")]
    pub leave_address: Option<u32>,
    /// One mass erase instead of sector erases.
    #[arg(long)]
    pub mass_erase: bool,
    /// Erase and write every planned sector; by default sectors that already hold what the
    /// flash would leave are compared and skipped.
    #[arg(long)]
    pub full: bool,
    /// Write the image's first block when its turn comes, not last: for images whose first
    /// block is not a vector table (by default it is written after the rest is verified, so a
    /// power cut never leaves a bootable half image).
    #[arg(long)]
    pub no_boot_last: bool,
    /// Turn device workarounds off (the STM32H7 Rev V erase recovery).
    #[arg(long)]
    pub no_workarounds: bool,
    /// Allow writing option bytes (can lock the chip for good).
    #[arg(long)]
    pub allow_option_bytes: bool,
    /// Allow writing OTP memory (cannot be undone).
    #[arg(long)]
    pub allow_otp: bool,
    /// Flash even if the file's DFU suffix names another device.
    #[arg(long)]
    pub ignore_suffix: bool,
    /// Print one JSON object instead of text (with --all or --watch: one per board, one per
    /// line).
    #[arg(long)]
    pub json: bool,
    /// Flash every board that matches DEVICE (none given: every DFU board found), one thread
    /// each, then print a table of the results; fails when any board failed.
    #[arg(long)]
    pub all: bool,
    /// Station mode (implies --all): wait for boards to appear and flash each newly attached
    /// one once, until interrupted. A board is known by its port path; one unplugged and
    /// plugged back in is flashed again.
    #[arg(long, conflicts_with = "wait")]
    pub watch: bool,
    /// Append each board's record (the --json line: result, digests of the image and of what
    /// was read back, board, tool, times) to FILE, one line per board.
    #[arg(long, value_name = "FILE")]
    pub log: Option<PathBuf>,
    #[command(flatten)]
    pub events: EventsArg,
    /// The image: DfuSe .dfu, Intel HEX, S-record, ELF, or a raw binary (with --address),
    /// with or without a DFU suffix.
    pub file: PathBuf,
}

#[derive(Args)]
pub struct FlashLayoutArgs {
    #[command(flatten)]
    pub device: DeviceArgs,
    /// Print one JSON object instead of text: every partition with its bytes and CRC-32, and
    /// the phases the device went through.
    #[arg(long)]
    pub json: bool,
    /// Append the board's record (the --json line with tool, file, board and times) to FILE.
    #[arg(long, value_name = "FILE")]
    pub log: Option<PathBuf>,
    #[command(flatten)]
    pub events: EventsArg,
    /// The FlashLayout.tsv; its binaries are found relative to its directory.
    pub file: PathBuf,
}

#[derive(Args)]
pub struct PackArgs {
    /// idVendor:idProduct for the suffix (hex; ffff = any).
    #[arg(short = 'D', long = "device", value_name = "VID:PID", default_value = "0483:df11", value_parser = parse_ids)]
    pub device: (u16, u16),
    /// bcdDevice for the suffix (hex; ffff = any).
    #[arg(long, value_name = "BCD", default_value = "ffff", value_parser = parse_hex16)]
    pub bcd_device: u16,
    /// Alt setting for inputs that carry none.
    #[arg(short = 'a', long = "alt", default_value_t = 0)]
    pub alt: u8,
    /// Target name written for every alt setting.
    #[arg(long)]
    pub name: Option<String>,
    /// Output file.
    #[arg(short = 'o', long = "output")]
    pub output: PathBuf,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// Inputs: files of any readable format, or ADDR[@ALT]:file.bin for raw binaries.
    #[arg(required = true)]
    pub inputs: Vec<String>,
}

#[derive(Args)]
pub struct InspectArgs {
    /// Address of a raw binary.
    #[arg(long, value_parser = parse_u32)]
    pub address: Option<u32>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// The file.
    pub file: PathBuf,
}

#[derive(Args)]
pub struct ReadArgs {
    #[command(flatten)]
    pub device: DeviceArgs,
    /// First address.
    #[arg(long, value_parser = parse_u32)]
    pub address: u32,
    /// Bytes to read (a number, 0x hex, or with a K or M suffix).
    #[arg(long, value_parser = parse_u32)]
    pub length: u32,
    /// Print one JSON object instead of text: what was read, with its SHA-256 and CRC-32.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub events: EventsArg,
    /// Output file.
    pub out: PathBuf,
}

#[derive(Args)]
pub struct EraseArgs {
    #[command(flatten)]
    pub device: DeviceArgs,
    /// First address of the range.
    #[arg(long, value_parser = parse_u32, required_unless_present_any = ["mass", "read_unprotect"], conflicts_with = "mass", requires = "length")]
    pub address: Option<u32>,
    /// Length of the range.
    #[arg(long, value_parser = parse_u32, requires = "address")]
    pub length: Option<u32>,
    /// Mass erase.
    #[arg(long, conflicts_with = "read_unprotect")]
    pub mass: bool,
    /// Remove read protection: the chip mass-erases all flash and resets (ST DfuSe 0x92).
    #[arg(long, conflicts_with_all = ["address", "mass"])]
    pub read_unprotect: bool,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub events: EventsArg,
}

#[derive(Args)]
pub struct InfoArgs {
    #[command(flatten)]
    pub device: DeviceArgs,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct ListArgs {
    /// Also list the simulator's models (each usable with --sim MODEL).
    #[arg(long)]
    pub simulated: bool,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Subcommand)]
pub enum SuffixAction {
    /// Append a DFU suffix (the file must not have one).
    Add {
        /// idVendor:idProduct (hex; ffff = any).
        #[arg(short = 'D', long = "device", value_name = "VID:PID", default_value = "ffff:ffff", value_parser = parse_ids)]
        device: (u16, u16),
        /// bcdDevice (hex; ffff = any).
        #[arg(long, value_name = "BCD", default_value = "ffff", value_parser = parse_hex16)]
        bcd_device: u16,
        /// The file, changed in place.
        file: PathBuf,
    },
    /// Check the suffix and its CRC.
    Check {
        /// The file.
        file: PathBuf,
    },
    /// Remove the suffix.
    Remove {
        /// The file, changed in place.
        file: PathBuf,
    },
}

#[derive(Args, Clone)]
pub struct DeviceArgs {
    /// Use a simulated device of this model (see `dfuflash list`). Repeat it to attach several
    /// boards (for flash --all; the second of a model is at sim:MODEL#2); MODEL:FAULTS arms
    /// faults (as --sim-fault) on that board alone.
    #[arg(long, value_name = "MODEL[:FAULTS]")]
    pub sim: Vec<String>,
    /// Keep the simulated device's memory in this file between runs.
    #[arg(long, value_name = "FILE", requires = "sim")]
    pub sim_state: Option<PathBuf>,
    /// Run the simulator's modelled delays in real time.
    #[arg(long, requires = "sim")]
    pub sim_realtime: bool,
    /// Inject faults: KIND@REQUEST[,...], KIND = disconnect, stall, timeout, power-loss, status=NAME (wedge-no-erase@1: a lying Rev V ROM).
    #[arg(long, value_name = "SPEC", requires = "sim")]
    pub sim_fault: Option<String>,
    /// Write the simulator's request transcript to this file.
    #[arg(long, value_name = "FILE", requires = "sim")]
    pub sim_transcript: Option<PathBuf>,
    /// A USB device by idVendor:idProduct (hex; either may be left out: `0483:` or `:df11`).
    #[arg(short = 'd', long = "device", value_name = "VID:PID")]
    pub device: Option<String>,
    /// A USB device by serial number (every STM32H7 ROM reports 200364500000: use -p).
    #[arg(short = 'S', long = "serial")]
    pub serial: Option<String>,
    /// A USB device by port path, such as 1-4.2 (see `dfuflash list`).
    #[arg(short = 'p', long = "path")]
    pub path: Option<String>,
    /// Wait up to this many seconds for a matching device to appear.
    #[arg(long, value_name = "SECONDS", num_args = 0..=1, default_missing_value = "30")]
    pub wait: Option<u64>,
    /// Alt setting, by number or by name (such as "@Internal Flash"); 0 when not given. An
    /// image for another alt setting is refused.
    #[arg(short = 'a', long = "alt")]
    pub alt: Option<String>,
    /// Give up when the whole job (flash, read, erase) has taken this many seconds; by default
    /// an allowance for the work it plans at the slowest documented device timings.
    #[arg(long, value_name = "SECONDS", value_parser = parse_seconds)]
    pub timeout: Option<std::time::Duration>,
    /// Show debug messages.
    #[arg(short, long)]
    pub verbose: bool,
}

fn parse_seconds(s: &str) -> Result<std::time::Duration, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v > 0.0 && v <= 1e6 => Ok(std::time::Duration::from_secs_f64(v)),
        _ => Err(format!(
            "{s:?} is not a number of seconds above 0 (such as 300)"
        )),
    }
}

pub fn parse_u32(s: &str) -> Result<u32, String> {
    let t = s.trim();
    let (digits, mult) = match t.chars().last() {
        Some('K') | Some('k') => (&t[..t.len() - 1], 1024u64),
        Some('M') | Some('m') => (&t[..t.len() - 1], 1024 * 1024),
        _ => (t, 1),
    };
    let v = if let Some(hex) = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        u64::from_str_radix(hex, 16)
    } else {
        digits.parse::<u64>()
    }
    .map_err(|_| format!("{s:?} is not a number (use decimal, 0x hex, or a K/M suffix)"))?;
    u32::try_from(v * mult).map_err(|_| format!("{s} does not fit in 32 bits"))
}

fn parse_hex16(s: &str) -> Result<u16, String> {
    let t = s.trim_start_matches("0x").trim_start_matches("0X");
    u16::from_str_radix(t, 16).map_err(|_| format!("{s:?} is not a 16-bit hex number"))
}

/// `VID:PID` in hex; either part may be empty (`0483:`, `:df11`) and is then `None`.
pub fn parse_vid_pid_parts(s: &str) -> Result<(Option<u16>, Option<u16>), String> {
    let (v, p) = s
        .split_once(':')
        .ok_or_else(|| format!("{s:?}: expected VID:PID in hex, such as 0483:df11"))?;
    let part = |x: &str| {
        if x.is_empty() {
            Ok(None)
        } else {
            parse_hex16(x).map(Some)
        }
    };
    Ok((part(v)?, part(p)?))
}

/// `VID:PID` with both parts (for suffixes).
fn parse_ids(s: &str) -> Result<(u16, u16), String> {
    match parse_vid_pid_parts(s)? {
        (Some(v), Some(p)) => Ok((v, p)),
        _ => Err(format!("{s:?}: expected VID:PID in hex, such as 0483:df11")),
    }
}
