//! Progress on stderr: indicatif bars on a terminal, plain lines otherwise, and the job's
//! log messages and workaround notices.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

use dfuflash::progress::{Event, Flow, Level, Phase};

/// Shows progress: bars on a terminal, plain lines otherwise; nothing with `quiet`.
pub struct Display {
    tty: bool,
    quiet: bool,
    verbose: bool,
    bar: Option<ProgressBar>,
    phase: Option<Phase>,
    last_tenth: u64,
}

impl Display {
    pub fn new(quiet: bool, verbose: bool) -> Self {
        Self {
            tty: std::io::stderr().is_terminal(),
            quiet,
            verbose,
            bar: None,
            phase: None,
            last_tenth: 0,
        }
    }

    fn line(&self, text: &str) {
        if self.quiet {
            return;
        }
        match &self.bar {
            Some(b) if self.tty => b.println(text),
            _ => eprintln!("{text}"),
        }
    }

    pub fn finish(&mut self) {
        if let Some(b) = self.bar.take() {
            b.finish();
        }
    }

    pub fn event(&mut self, ev: &Event<'_>) -> Flow {
        match ev {
            Event::PhaseStart { phase, total } => {
                self.finish();
                self.phase = Some(*phase);
                self.last_tenth = 0;
                // Leaving is one request: the summary says it once.
                if self.quiet || *phase == Phase::Leave {
                    return Flow::Continue;
                }
                let sectors = *phase == Phase::Erase;
                if self.tty {
                    let template = if sectors {
                        "{prefix:>7} [{bar:40.cyan/blue}] {pos}/{len} sectors {msg}"
                    } else {
                        "{prefix:>7} [{bar:40.cyan/blue}] {bytes}/{total_bytes} {msg}"
                    };
                    let bar = ProgressBar::new(*total)
                        .with_style(
                            ProgressStyle::with_template(template)
                                .expect("valid template")
                                .progress_chars("=> "),
                        )
                        .with_prefix(phase.name());
                    self.bar = Some(bar);
                } else if sectors {
                    eprintln!("{}: {total} sector(s)", phase.name());
                } else {
                    eprintln!("{}: {total} bytes", phase.name());
                }
            }
            Event::Progress {
                phase,
                done,
                total,
                address,
                sector,
            } => {
                if self.quiet {
                    return Flow::Continue;
                }
                if let Some(b) = &self.bar {
                    b.set_position(*done);
                    if sector.is_some() {
                        b.set_message(format!("{address:#010x}"));
                    }
                } else if let Some(s) = sector {
                    eprintln!(
                        "{}: sector {}/{} at {address:#010x}",
                        phase.name(),
                        s.k,
                        s.n
                    );
                } else {
                    let tenth = done * 10 / (*total).max(1);
                    if tenth > self.last_tenth {
                        self.last_tenth = tenth;
                        eprintln!("{}: {done}/{total} bytes ({}%)", phase.name(), tenth * 10);
                    }
                }
            }
            Event::Workaround { address } => {
                self.line(&format!("workaround: sector {address:#010x} stuck in dfuDNBUSY; recovered as ST's programmer does (STM32H7 Rev V); it is read back before the job ends"));
            }
            Event::Log { level, message }
                if *level >= Level::Warn
                    || (self.verbose && *level >= Level::Debug)
                    || (*level == Level::Info && !self.quiet) =>
            {
                self.line(&format!("{}: {message}", level.name()));
            }
            _ => {}
        }
        Flow::Continue
    }
}
