//! dfu-util 0.11's command line (getopt string `hVvleE:d:p:c:i:a:S:t:U:D:Rs:Z:wn:`, plus
//! Arduino's `-Q`), parsed with clap: short options take attached values (`-a0`), long ones
//! `--opt=value`, and unique prefixes of long options are accepted as getopt_long does.

use clap::{ArgAction, Parser};

/// The options; every field is as dfu-util names it.
#[derive(Parser, Debug)]
#[command(
    name = "dfu-util",
    disable_help_flag = true,
    disable_version_flag = true,
    infer_long_args = true
)]
pub struct DfuUtilArgs {
    #[arg(short = 'h', long = "help")]
    pub help: bool,
    #[arg(short = 'V', long = "version")]
    pub version: bool,
    #[arg(short = 'v', long = "verbose", action = ArgAction::Count)]
    pub verbose: u8,
    #[arg(short = 'l', long = "list")]
    pub list: bool,
    #[arg(short = 'e', long = "detach")]
    pub detach: bool,
    #[arg(short = 'E', long = "detach-delay", value_parser = number)]
    pub detach_delay: Option<u32>,
    #[arg(short = 'd', long = "device")]
    pub device: Option<String>,
    #[arg(short = 'p', long = "path")]
    pub path: Option<String>,
    #[arg(short = 'c', long = "cfg", alias = "configuration", value_parser = number)]
    pub cfg: Option<u32>,
    #[arg(short = 'i', long = "intf", alias = "interface", value_parser = number)]
    pub intf: Option<u32>,
    #[arg(short = 'a', long = "alt", alias = "altsetting")]
    pub alt: Option<String>,
    #[arg(short = 'S', long = "serial")]
    pub serial: Option<String>,
    #[arg(short = 't', long = "transfer-size", value_parser = number)]
    pub transfer_size: Option<u32>,
    #[arg(short = 'U', long = "upload")]
    pub upload: Option<String>,
    #[arg(short = 'Z', long = "upload-size", value_parser = number)]
    pub upload_size: Option<u32>,
    #[arg(short = 'D', long = "download")]
    pub download: Option<String>,
    #[arg(short = 'R', long = "reset")]
    pub reset: bool,
    /// Arduino's build: reset the board after flashing.
    #[arg(short = 'Q')]
    pub quit_reset: bool,
    #[arg(short = 's', long = "dfuse-address")]
    pub dfuse_address: Option<String>,
    #[arg(short = 'n', long = "devnum", value_parser = number)]
    pub devnum: Option<u32>,
    #[arg(short = 'w', long = "wait", num_args = 0..=1, default_missing_value = "")]
    pub wait: Option<String>,
}

/// A numeric option value; the error is for clap to report.
fn number(s: &str) -> Result<u32, String> {
    super::select::number(s).ok_or_else(|| format!("Something went wrong with the argument {s:?}"))
}

/// The help text (stderr), for -h and after a usage error: dfu-util's options, in our words.
pub const HELP: &str = "Usage: dfu-util [options] ...   (dfuflash's dfu-util 0.11 command line)
  -h --help                  this text
  -V --version               the version banner
  -v --verbose               more detail
  -l --list                  list the DFU devices attached
  -e --detach                detach a device in run-time mode
  -E --detach-delay SECONDS  accepted; dfuflash waits for the device to come back itself
  -d --device VID:PID[,VID:PID]
                             the device by ids (run-time mode, then DFU mode); * is any
  -n --devnum N              accepted, not matched
  -p --path BUS-PORT[.PORT]  the device by USB port path
  -c --cfg N, -i --intf N    accepted (dfuflash finds the DFU interface itself)
  -S --serial SERIAL[,SERIAL_IN_DFU_MODE]
                             the device by serial number
  -a --alt ALT               the alt setting, by number or by name
  -t --transfer-size BYTES   accepted; dfuflash uses the device's own transfer size
  -U --upload FILE           read the device into FILE (which must not exist)
  -Z --upload-size BYTES     how much a plain DFU 1.1 upload reads
  -D --download FILE         write FILE (raw binary with -s ADDRESS, or a DfuSe .dfu file)
  -R --reset                 reset the device when done
  -Q                         the same (Arduino's dfu-util)
  -w --wait                  wait for the device to appear (300 s at most)
  -s --dfuse-address ADDRESS[:LENGTH][:MODIFIER...]
                             DfuSe address of a raw download or an upload; modifiers:
                             leave, force, mass-erase (with force), unprotect (with
                             force), will-reset, fast (accepted)
";
