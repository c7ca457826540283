//! `--events json`: what a job does, one JSON object per line on stdout as it happens, for
//! programs that spawn the command (docs/events.schema.json). Every line carries the schema
//! version, the event, the milliseconds since the command started, and with many boards the
//! board's port path. Progress is thinned to one line per phase every 100 ms, and the last
//! (done = total) is always written.

use std::io::Write;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use dfuflash::progress::{Event, Flow, Level, Phase};

use crate::args::{EventsArg, EventsFormat};

/// The version in every line; bumped when a field changes meaning or goes away.
pub const SCHEMA_VERSION: u32 = 1;

/// At most one progress line per phase this often.
const PROGRESS_EVERY: Duration = Duration::from_millis(100);

/// Where a command's events start: one per command, shared by its boards.
#[derive(Clone, Copy)]
pub struct Events {
    start: Instant,
    verbose: bool,
}

impl Events {
    /// The events `--events` asks for, if it does.
    pub fn requested(arg: EventsArg, verbose: bool) -> Option<Self> {
        arg.format.map(|EventsFormat::Json| Self::new(verbose))
    }

    pub fn new(verbose: bool) -> Self {
        Self {
            start: Instant::now(),
            verbose,
        }
    }

    /// The stream of one job, on stdout: a board's when `board` names it.
    pub fn stream(&self, board: Option<&str>) -> EventStream {
        self.stream_to(board, Box::new(print_line))
    }

    fn stream_to(&self, board: Option<&str>, sink: Sink) -> EventStream {
        EventStream {
            events: *self,
            board: board.map(str::to_string),
            last_progress: None,
            sink,
        }
    }
}

/// Where the lines go.
type Sink = Box<dyn FnMut(&Value) + Send>;

/// One write per line under the lock: boards' threads never interleave within a line. A
/// closed stdout ends the command by SIGPIPE where there is one; elsewhere the job goes on
/// without its listener.
fn print_line(v: &Value) {
    let _ = writeln!(std::io::stdout().lock(), "{v}");
}

/// One job's events.
pub struct EventStream {
    events: Events,
    board: Option<String>,
    /// The phase and when its last progress line was written.
    last_progress: Option<(Phase, Instant)>,
    sink: Sink,
}

impl EventStream {
    /// The job's observer.
    pub fn event(&mut self, ev: &Event<'_>) -> Flow {
        match ev {
            Event::PhaseStart { phase, total } => {
                self.last_progress = None;
                self.emit("phase", json!({"phase": phase.name(), "total": total}));
            }
            Event::Progress {
                phase,
                done,
                total,
                address,
                sector,
            } => {
                let now = Instant::now();
                let due = match self.last_progress {
                    Some((p, at)) if p == *phase => now.duration_since(at) >= PROGRESS_EVERY,
                    _ => true,
                };
                if due || done >= total {
                    self.last_progress = Some((*phase, now));
                    let mut v = json!({"phase": phase.name(), "done": done, "total": total, "address": address});
                    if let Some(s) = sector {
                        v["sector"] = json!({"index": s.index, "k": s.k, "n": s.n});
                    }
                    self.emit_at(now, "progress", v);
                }
            }
            Event::Workaround { address } => self.emit("recovery", json!({"sector": address})),
            Event::Log { level, message } if *level > Level::Debug || self.events.verbose => {
                self.emit("log", json!({"level": level.name(), "message": message}))
            }
            _ => {}
        }
        Flow::Continue
    }

    /// The job's outcome: its `--json` object (a flash's record) under `report`.
    pub fn result(&mut self, report: &Value) {
        let ok = report["ok"].as_bool().unwrap_or(false);
        self.emit("result", json!({"ok": ok, "report": report}));
    }

    fn emit(&mut self, event: &str, fields: Value) {
        self.emit_at(Instant::now(), event, fields);
    }

    /// A line whose time is `at`: a progress line's is the instant its thinning measured.
    fn emit_at(&mut self, at: Instant, event: &str, fields: Value) {
        let mut v = json!({
            "schema": SCHEMA_VERSION,
            "event": event,
            "time_ms": at.duration_since(self.events.start).as_millis() as u64,
        });
        if let Some(b) = &self.board {
            v["board"] = json!(b);
        }
        if let (Value::Object(line), Value::Object(more)) = (&mut v, fields) {
            line.extend(more);
        }
        (self.sink)(&v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[test]
    fn progress_is_thinned_to_ten_lines_a_second_per_phase_and_ends_at_its_total() {
        let lines = Arc::new(Mutex::new(Vec::new()));
        let out = lines.clone();
        let mut s = Events::new(false).stream_to(
            Some("sim:x"),
            Box::new(move |v: &Value| out.lock().unwrap().push(v.clone())),
        );
        let start = Instant::now();
        let total = 200_000u64;
        s.event(&Event::PhaseStart {
            phase: Phase::Write,
            total,
        });
        for done in (0..=total).step_by(2) {
            // At least 400 ms in all: long enough for several intervals.
            if done % 500 == 0 {
                std::thread::sleep(Duration::from_millis(1));
            }
            s.event(&Event::Progress {
                phase: Phase::Write,
                done,
                total,
                address: done as u32,
                sector: None,
            });
        }
        let took = start.elapsed();
        let lines = lines.lock().unwrap();
        let progress: Vec<&Value> = lines.iter().filter(|v| v["event"] == "progress").collect();
        // One line at once (done 0), then one when 100 ms have passed since the last line, and
        // the last (done = total) whenever it comes.
        assert_eq!(progress[0]["done"], 0);
        assert!(progress.len() >= 3, "{} progress lines", progress.len());
        let ms: Vec<u64> = progress
            .iter()
            .map(|v| v["time_ms"].as_u64().unwrap())
            .collect();
        let every = PROGRESS_EVERY.as_millis() as u64;
        // Every gap but the last (to done = total) is at least the interval, so the lines span
        // at least interval * (count - 2).
        for (i, w) in ms[..ms.len() - 1].windows(2).enumerate() {
            let (a, b) = (w[0], w[1]);
            assert!(
                b >= a + every,
                "lines {i} and {} of {} at {a} and {b} ms",
                i + 1,
                ms.len()
            );
        }
        // However long the loop took: no more lines than that allows.
        let allowed = 2 + (took.as_millis() / 100) as usize;
        assert!(
            progress.len() <= allowed,
            "{} progress lines in {took:?}",
            progress.len()
        );
        assert_eq!(progress.last().unwrap()["done"], total);
        assert_eq!(lines[0]["event"], "phase");
        assert!(lines
            .iter()
            .all(|v| v["schema"] == SCHEMA_VERSION && v["board"] == "sim:x"));
    }
}
