//! Where the lines go (stdout, and `-log FILE`) and the shapes callers parse: the banner, the
//! progress bar OpenMV IDE reads with `[=*\s*]\s+(\d+)%`, and CubeProgrammer's elapsed time.

use std::fs::File;
use std::io::Write;
use std::time::Duration;

use dfuflash::progress::Level;

/// The version callers see in the banner: a recent CubeProgrammer's.
pub const VERSION: &str = "2.17.0";

const WIDTH: u64 = 50;

pub struct Out {
    quiet: bool,
    verbosity: u8,
    log: Option<File>,
    // The last percentage drawn, while a bar is open.
    bar: Option<u64>,
}

impl Out {
    /// `-q` hides the bars only, as CubeProgrammer's does; `-vb 2` and `-vb 3` add the engine's
    /// log lines; `-log FILE` gets every line too.
    pub fn new(quiet: bool, verbosity: u8, log: Option<&str>) -> Result<Self, String> {
        let log = match log {
            Some(path) => Some(
                File::create(path)
                    .map_err(|e| format!("Error: cannot create log file {path}: {e}"))?,
            ),
            None => None,
        };
        Ok(Out {
            quiet,
            verbosity,
            log,
            bar: None,
        })
    }

    pub fn line(&mut self, s: impl AsRef<str>) {
        self.end_bar();
        let s = s.as_ref();
        println!("{s}");
        if let Some(f) = &mut self.log {
            let _ = writeln!(f, "{s}");
        }
    }

    /// One of the engine's log lines, if `-vb` asks for its level.
    pub fn log(&mut self, level: Level, message: &str) {
        let wanted = match level {
            Level::Debug => 3,
            _ => 2,
        };
        if self.verbosity >= wanted {
            self.line(format!("dfuflash: {}: {message}", level.name()));
        }
    }

    /// `\r[====      ]  NN%`: two spaces before the number, so the pattern reads 100 % too.
    pub fn bar(&mut self, done: u64, total: u64) {
        if self.quiet {
            return;
        }
        let pct = (100 * done / total.max(1)).min(100);
        if self.bar == Some(pct) {
            return;
        }
        self.bar = Some(pct);
        let filled = WIDTH * pct / 100;
        let bar: String = (0..WIDTH)
            .map(|i| if i < filled { '=' } else { ' ' })
            .collect();
        let mut out = std::io::stdout().lock();
        let _ = write!(out, "\r[{bar}]  {pct}%");
        let _ = out.flush();
    }

    /// Ends the bar's line, if one is open.
    pub fn end_bar(&mut self) {
        if let Some(pct) = self.bar.take() {
            println!();
            if let Some(f) = &mut self.log {
                let _ = writeln!(f, "[{}]  {pct}%", "=".repeat((WIDTH * pct / 100) as usize));
            }
        }
    }
}

/// The banner CubeProgrammer prints first, then what dfuflash is.
pub fn banner(out: &mut Out) {
    let dashes = "-".repeat(67);
    out.line(format!("      {dashes}"));
    out.line(format!(
        "                        STM32CubeProgrammer v{VERSION}"
    ));
    out.line(format!("      {dashes}"));
    out.line("");
    out.line(format!(
        "dfuflash: {}, a drop-in for STM32_Programmer_CLI over USB DFU (Rev V recovery, read-back verify)",
        env!("CARGO_PKG_VERSION")
    ));
    out.line("");
}

/// `00:00:00.631`.
pub fn elapsed(d: Duration) -> String {
    let ms = d.as_millis();
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

/// A size as CubeProgrammer prints one: `12.00 KB`.
pub fn size(n: u64) -> String {
    if n < 1024 {
        format!("{n} Bytes")
    } else if n < 1 << 20 {
        format!("{:.2} KB", n as f64 / 1024.0)
    } else {
        format!("{:.2} MB", n as f64 / (1u64 << 20) as f64)
    }
}
