//! Progress of many boards at once, on stderr: on a terminal one line per board, redrawn in
//! place (indicatif's MultiProgress); otherwise plain lines that start with the board's port
//! path, never a carriage return. Each worker thread owns its board's line; the display they
//! share is a handle to one MultiProgress.

use std::io::IsTerminal;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use dfuflash::progress::{Event, Flow, Level, Phase};

use crate::board_report::BoardResult;
use crate::events::{EventStream, Events};

/// What the lines are for.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// `flash --all`: plain lines for each phase and each board's outcome; on a terminal each
    /// board's line stays, showing its outcome, above the final table.
    Batch,
    /// `--watch`: plain lines only for what needs attention (the caller prints one result row
    /// per board); on a terminal a board's line goes once its result row is printed.
    Station,
}

/// The display the workers share.
#[derive(Clone)]
pub struct BoardsDisplay {
    /// On a terminal (and not quiet).
    multi: Option<MultiProgress>,
    quiet: bool,
    verbose: bool,
    style: Style,
    /// Width of the port path column on a terminal.
    path_width: usize,
    /// `--events json`: each board's events on stdout, instead of anything on stderr.
    events: Option<Events>,
}

impl BoardsDisplay {
    /// `quiet` (for `--json`) shows nothing; nor does `events`, which writes each board's
    /// events on stdout.
    pub fn new(
        quiet: bool,
        verbose: bool,
        style: Style,
        path_width: usize,
        events: Option<Events>,
    ) -> Self {
        let quiet = quiet || events.is_some();
        let tty = std::io::stderr().is_terminal();
        BoardsDisplay {
            multi: (tty && !quiet).then(MultiProgress::new),
            quiet,
            verbose,
            style,
            path_width,
            events,
        }
    }

    /// A line of its own: above the boards' lines on a terminal; a log event with events.
    pub fn println(&self, text: &str) {
        if let Some(e) = self.events {
            e.stream(None).event(&Event::Log {
                level: Level::Info,
                message: text,
            });
            return;
        }
        if self.quiet {
            return;
        }
        match &self.multi {
            // Only fails when the terminal is gone; then there is no one to tell.
            Some(m) => drop(m.println(text)),
            None => eprintln!("{text}"),
        }
    }

    /// The line of a board that is about to be flashed.
    pub fn board(&self, path: &str, serial: &str) -> BoardLine {
        let bar = self.multi.as_ref().map(|m| {
            let bar = m.add(ProgressBar::new(0));
            bar.set_style(text_style());
            bar.set_prefix(format!("{path:<w$}  {serial:<12}", w = self.path_width));
            bar.set_message("opening");
            bar
        });
        BoardLine {
            display: self.clone(),
            path: path.to_string(),
            bar,
            stream: self.events.map(|e| e.stream(Some(path))),
        }
    }
}

fn text_style() -> ProgressStyle {
    ProgressStyle::with_template("{prefix}  {msg}").expect("valid template")
}

fn phase_style(phase: Phase) -> ProgressStyle {
    let template = if phase == Phase::Erase {
        "{prefix}  {msg:<7} [{bar:30.cyan/blue}] {percent:>3}% {pos}/{len} sectors"
    } else {
        "{prefix}  {msg:<7} [{bar:30.cyan/blue}] {percent:>3}% {bytes}/{total_bytes}"
    };
    ProgressStyle::with_template(template)
        .expect("valid template")
        .progress_chars("=> ")
}

/// One board's line, owned by its worker.
pub struct BoardLine {
    display: BoardsDisplay,
    path: String,
    bar: Option<ProgressBar>,
    stream: Option<EventStream>,
}

impl BoardLine {
    /// A plain line about this board (only when not on a terminal).
    fn plain(&self, text: &str) {
        if self.bar.is_none() && !self.display.quiet {
            eprintln!("{}: {text}", self.path);
        }
    }

    /// A notice that stays: above the lines on a terminal, a plain line otherwise.
    fn notice(&self, text: &str) {
        self.display.println(&format!("{}: {text}", self.path));
    }

    pub fn event(&mut self, ev: &Event<'_>) -> Flow {
        if let Some(s) = &mut self.stream {
            return s.event(ev);
        }
        let batch = self.display.style == Style::Batch;
        match ev {
            Event::PhaseStart { phase, total } => {
                if let Some(bar) = &self.bar {
                    if *phase == Phase::Leave {
                        bar.set_style(text_style());
                    } else {
                        bar.set_style(phase_style(*phase));
                        bar.set_length(*total);
                        bar.set_position(0);
                    }
                    bar.set_message(phase.name());
                } else if batch && *phase != Phase::Leave {
                    let unit = if *phase == Phase::Erase {
                        "sector(s)"
                    } else {
                        "bytes"
                    };
                    self.plain(&format!("{}: {total} {unit}", phase.name()));
                }
            }
            Event::Progress { done, .. } => {
                if let Some(bar) = &self.bar {
                    bar.set_position(*done);
                }
            }
            Event::Workaround { address } => self.notice(&format!(
                "workaround: sector {address:#010x} stuck in dfuDNBUSY; recovered as ST's programmer does (STM32H7 Rev V)"
            )),
            Event::Log { level, message }
                if *level >= Level::Warn
                    || (self.display.verbose && *level >= Level::Debug)
                    || (*level == Level::Info && batch) =>
            {
                self.notice(&format!("{}: {message}", level.name()));
            }
            _ => {}
        }
        Flow::Continue
    }

    /// The board is done: its result shows on its line (flash --all), or the line goes (watch:
    /// the caller prints the result row); with events, the result event carries its record.
    pub fn finish(&mut self, r: &BoardResult) {
        if let Some(s) = &mut self.stream {
            s.result(&r.json);
            return;
        }
        let result = r.result.as_str();
        match (&self.bar, self.display.style) {
            (Some(bar), Style::Batch) => {
                bar.set_style(text_style());
                bar.finish_with_message(result.to_string());
            }
            (Some(bar), Style::Station) => bar.finish_and_clear(),
            (None, Style::Batch) => self.plain(result),
            (None, Style::Station) => {}
        }
    }
}
