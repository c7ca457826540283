//! What `flash` does on each board, whichever way it runs (one board, `--all`, `--watch`): the
//! file, its address, the job's options, and the checks before any board is touched.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

use serde_json::Value;

use dfuflash::image::{self, Image, LoadOptions};
use dfuflash::job::{self, FlashOptions, Report};
use dfuflash::progress::{CancelToken, Observer};
use dfuflash::Error;

use crate::args::FlashArgs;
use crate::open::Opened;
use crate::production_log::{self, ProductionLog};

/// What the flash does on each board: the file, its address, the job's options, and where
/// each board's record goes.
#[derive(Clone)]
pub struct FlashJob {
    file: PathBuf,
    address: Option<u32>,
    opts: FlashOptions,
    /// `--log FILE`, shared by every board's thread.
    log: Option<Arc<ProductionLog>>,
}

impl FlashJob {
    /// The job the arguments ask for; `--log`'s file is opened here, before any board.
    pub fn new(args: &FlashArgs) -> Result<Self, String> {
        let mut opts = FlashOptions::default();
        opts.verify = !args.no_verify;
        opts.leave = args.leave;
        opts.leave_address = args.leave_address;
        opts.mass_erase = args.mass_erase;
        opts.full = args.full;
        opts.boot_last = !args.no_boot_last;
        opts.allow_option_bytes = args.allow_option_bytes;
        opts.allow_otp = args.allow_otp;
        opts.check_suffix_ids = !args.ignore_suffix;
        let log = match &args.log {
            Some(path) => Some(Arc::new(ProductionLog::open(path)?)),
            None => None,
        };
        Ok(FlashJob {
            file: args.file.clone(),
            address: args.address,
            opts,
            log,
        })
    }

    /// Completes a board's JSON line as a production record (tool, file, board, times) and
    /// appends it to `--log`'s file. A board whose record cannot be kept has failed (the
    /// factory has no proof of it): then the line returned says so, and so does the error.
    pub fn record(
        &self,
        line: Value,
        board: (&str, &str),
        started: SystemTime,
    ) -> (Value, Result<(), String>) {
        production_log::record(self.log.as_deref(), line, &self.file, board, started)
    }

    /// Whether the job reads back what it wrote.
    pub fn verifies(&self) -> bool {
        self.opts.verify
    }

    /// The image as this device takes it: on its alt setting, and at 0 for a raw binary on a
    /// plain DFU 1.1 device (which has no addresses).
    pub fn load(&self, o: &Opened) -> Result<Image, Error> {
        let mut lopts = LoadOptions::default();
        lopts.address = self.address;
        lopts.alt = o.dfu.alt();
        match image::load(&self.file, &lopts) {
            Err(image::FormatError::RawNeedsAddress { .. }) if !o.dfu.is_dfuse() => {
                lopts.address = Some(0);
                image::load(&self.file, &lopts)
            }
            other => other,
        }
        .map(|(_, i)| i)
        .map_err(Error::from)
    }

    /// Reads the file once before any board is touched, so that an unreadable or malformed
    /// file is one error instead of one per board. A raw binary without an address passes:
    /// plain DFU 1.1 boards take it.
    pub fn check_file(&self) -> Result<(), Error> {
        let mut lopts = LoadOptions::default();
        lopts.address = self.address;
        match image::load(&self.file, &lopts) {
            Ok(_) | Err(image::FormatError::RawNeedsAddress { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Loads the file as this device takes it and flashes it. A file for another alt setting
    /// than -a names is refused before any request.
    pub fn run(
        &self,
        o: &mut Opened,
        obs: &mut dyn Observer,
        cancel: &CancelToken,
    ) -> Result<Report, Error> {
        let mut opts = self.opts.clone();
        opts.selected_alt = o.alt_selected.then(|| o.dfu.alt());
        let image = self.load(o)?;
        job::flash(&mut o.dfu, &image, &opts, obs, cancel)
    }
}
