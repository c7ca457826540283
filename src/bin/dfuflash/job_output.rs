//! How a single-board command (flash, read, erase) shows its job: progress on stderr, or
//! `--events json` on stdout; then its outcome: the `--json` object, the result event, or the
//! text summary.

use serde_json::Value;

use dfuflash::progress::{Event, Flow};
use dfuflash::Error;

use crate::args::EventsArg;
use crate::display::Display;
use crate::events::{EventStream, Events};
use crate::hints;
use crate::report::refusal_before_any_request;

pub struct JobOutput {
    display: Display,
    stream: Option<EventStream>,
    json: bool,
}

impl JobOutput {
    pub fn new(json: bool, events: EventsArg, verbose: bool) -> Self {
        let stream = Events::requested(events, verbose).map(|e| e.stream(None));
        Self {
            display: Display::new(json || stream.is_some(), verbose),
            stream,
            json,
        }
    }

    /// The job's observer.
    pub fn event(&mut self, ev: &Event<'_>) -> Flow {
        if let Some(s) = &mut self.stream {
            s.event(ev);
        }
        self.display.event(ev)
    }

    /// The job has returned: its progress bar goes.
    pub fn finish(&mut self) {
        self.display.finish();
    }

    /// A failure before the job ran (the device, the file, the options) is an outcome too:
    /// its object on stdout; returns the message for stderr.
    pub fn failed(&mut self, e: &Error) -> String {
        self.refused(&hints::message(e), e.kind())
    }

    /// As [`Self::failed`], for a failure that is not a library error.
    pub fn refused(&mut self, message: &str, kind: &str) -> String {
        self.outcome(&refusal_before_any_request(message, kind), None);
        message.to_string()
    }

    /// The outcome: `line` on stdout (as the object, or in the result event), else `text` on
    /// stderr.
    pub fn outcome(&mut self, line: &Value, text: Option<&str>) {
        if let Some(s) = &mut self.stream {
            s.result(line);
        } else if self.json {
            println!("{line}");
        } else if let Some(t) = text {
            eprintln!("{t}");
        }
    }
}
