//! `-d FlashLayout.tsv`: every partition through dfuflash's layout job (the serial-boot phase
//! protocol across the board's re-enumerations), with CubeProgrammer's TSV lines and a bar per
//! partition (ST-SERIAL-BOOT.md B3, from T4).

use std::path::Path;

use dfuflash::flashlayout::FlashLayout;
use dfuflash::job::{self, LayoutOptions};
use dfuflash::progress::{CancelToken, Event, Flow, Level, Phase};

use super::board::Board;
use super::download::base_name;
use super::output::{elapsed, Out};

pub fn flash_layout(out: &mut Out, board: &mut Board, file: &str) -> Result<(), String> {
    out.line("");
    out.line("Memory Programming ...");
    out.line(format!("Opening and parsing file: {}", base_name(file)));
    let layout = FlashLayout::load(Path::new(file)).map_err(|e| format!("Error: {e}"))?;
    for r in layout.rows.iter().filter(|r| r.downloads()) {
        out.line(format!("  Partition ID  : {:#04x} ({})", r.id, r.name));
    }
    out.line("");
    // The partition a failure happened in, as the job names it.
    let mut failed_in = None;
    let result = job::flash_layout(
        &mut board.dfu,
        &layout,
        &LayoutOptions::default(),
        &mut |ev: &Event<'_>| {
            match *ev {
                Event::PhaseStart {
                    phase: Phase::Write,
                    total,
                } => {
                    out.line("Download in Progress:");
                    out.bar(0, total);
                }
                Event::Progress {
                    phase: Phase::Write,
                    done,
                    total,
                    ..
                } => out.bar(done, total),
                Event::Log { level, message } => {
                    if level == Level::Error && message.starts_with("partition ") {
                        failed_in = Some(message.to_string());
                    }
                    out.log(level, message)
                }
                _ => {}
            }
            Flow::Continue
        },
        &CancelToken::new(),
    );
    board.save();
    let report = match result {
        Ok(r) => r,
        Err(e) => {
            out.line(format!(
                "Error: {}",
                failed_in.unwrap_or_else(|| e.to_string())
            ));
            out.line("Error: failed to download Segment[0]");
            out.line("Error: TSV flashing service failed");
            return Err(String::new());
        }
    };
    out.line("File download complete");
    out.line(format!(
        "Time elapsed during download operation: {}",
        elapsed(report.elapsed)
    ));
    for p in report.partitions.iter().filter(|p| p.downloads > 0) {
        let crc = p.crc32.map_or("-".into(), |c| format!("{c:08x}"));
        out.line(format!(
            "dfuflash: partition {} (Id {:#04x}): {} bytes, crc32 {crc}",
            p.name, p.id, p.bytes
        ));
    }
    Ok(())
}
