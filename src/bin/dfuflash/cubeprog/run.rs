//! The operations in command-line order, as CubeProgrammer runs them: erase, download, verify,
//! start, upload. `-e all` just before a download becomes that download's mass erase (one erase
//! of the chip, not a second one sector by sector).

use dfuflash::job;
use dfuflash::progress::{CancelToken, Event, Flow, Phase};

use super::args::{Args, Erase, Op};
use super::board::{self, Board};
use super::download::{download, Downloaded};
use super::layout::flash_layout;
use super::output::{banner, elapsed, Out};

pub const HELP: &str = "Usage: STM32_Programmer_CLI -c port=USB1 [sn=S] [VID=V PID=P] [COMMANDS...]
  (dfuflash's drop-in: the USB DFU subset of STM32CubeProgrammer's command line)
  -c, --connect port=USB1|USBn|USB [sn=SERIAL] [VID=0x0483] [PID=0xdf11]
  -l, --list usb                    list the boards in DFU mode
  -d, --download, -w, --write FILE [ADDRESS]
                                    .bin needs ADDRESS; .hex .srec .elf .dfu carry theirs;
                                    FlashLayout.tsv: every partition, as the board asks
  -v, --verify                      report the read-back verify of the download before it
  -e, --erase all | [START END] | N...   mass erase, or sectors by number
  -s, --start, -g, --go [ADDRESS]   leave DFU mode and run from ADDRESS
  -r, -u, --upload ADDRESS SIZE FILE.bin
  -q, --quietMode                   no progress bars
  -vb, --verbosity 1..3   -log [FILE]
  Not supported (refused): SWD/JTAG/UART ports, -ob, -rdu, -el
";

pub fn run(a: &Args, out: &mut Out) -> Result<(), String> {
    banner(out);
    if a.version {
        return Ok(());
    }
    if a.list {
        board::list(out)?;
    }
    let Some(c) = &a.connect else {
        if !a.ops.is_empty() {
            return Err("Error: no board: connect first with -c port=USB1".into());
        }
        if !a.list {
            eprint!("{HELP}");
        }
        return Ok(());
    };
    let mut board = board::connect(out, c)?;
    let result = ops(out, &mut board, &a.ops);
    board.save();
    result
}

fn ops(out: &mut Out, board: &mut Board, ops: &[Op]) -> Result<(), String> {
    let mut last: Option<Downloaded> = None;
    let mut mass_erase_next = false;
    // After a layout the board has gone through its boot stages: nothing is left to read back
    // or to start over USB.
    let mut layout_done = false;
    for (i, op) in ops.iter().enumerate() {
        match op {
            Op::Erase(Erase::All) if matches!(ops.get(i + 1), Some(Op::Download { .. })) => {
                mass_erase_next = true
            }
            Op::Erase(Erase::All) => mass_erase(out, board)?,
            Op::Erase(Erase::Sectors(s)) => erase_sectors(out, board, s)?,
            Op::Download { file, address } => {
                let mass = std::mem::take(&mut mass_erase_next);
                last = Some(download(out, board, file, *address, mass)?);
            }
            Op::Layout { file } if layout_done => {
                return Err(format!(
                    "Error: {file}: one FlashLayout.tsv per run; the board ended the first"
                ))
            }
            Op::Layout { file } => {
                last = None;
                flash_layout(out, board, file)?;
                layout_done = true;
            }
            Op::Verify | Op::Start(_) if layout_done => out.line(format!(
                "dfuflash: {} after a FlashLayout.tsv: nothing to do; the device checked each \
                 partition as it wrote it and runs what the layout loaded",
                if *op == Op::Verify { "-v" } else { "-s" }
            )),
            Op::Verify => verify(out, last.as_ref())?,
            Op::Start(at) => {
                let default = last.as_ref().and_then(|d| d.first_address);
                start(out, board, at.or(default))?
            }
            Op::Upload {
                address,
                size,
                file,
            } => upload(out, board, *address, *size, file)?,
        }
    }
    Ok(())
}

/// Erase lines from the job's events.
fn erase_lines(out: &mut Out) -> impl FnMut(&Event<'_>) -> Flow + '_ {
    |ev| {
        match *ev {
            Event::Progress {
                phase: Phase::Erase,
                address,
                sector: Some(s),
                ..
            } => out.line(format!(
                "erasing sector {:04} @: {address:#010x} done",
                s.index
            )),
            Event::Log { level, message } => out.log(level, message),
            _ => {}
        }
        Flow::Continue
    }
}

fn mass_erase(out: &mut Out, board: &mut Board) -> Result<(), String> {
    out.line("");
    out.line("Mass erase ...");
    job::mass_erase(
        &mut board.dfu,
        &mut |_: &Event<'_>| Flow::Continue,
        &CancelToken::new(),
    )
    .map_err(|e| format!("Error: Mass erase operation failed: {e}"))?;
    out.line("");
    out.line("Mass erase successfully achieved");
    Ok(())
}

/// `-e [N M]` / `-e N ...`: the sectors of the internal flash by number, each run of
/// neighbours erased as one range.
fn erase_sectors(out: &mut Out, board: &mut Board, sectors: &[usize]) -> Result<(), String> {
    let layout = board
        .flash_layout()
        .ok_or("Error: the board describes no flash layout on alt setting 0")?;
    let mut sorted = sectors.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for &s in &sorted {
        if layout.sector(s).is_none() {
            return Err(format!(
                "Error: sector {s} does not exist: the flash has sectors 0 to {}",
                layout.sector_count().saturating_sub(1)
            ));
        }
        match runs.last_mut() {
            Some((_, end)) if *end + 1 == s => *end = s,
            _ => runs.push((s, s)),
        }
    }
    out.line("");
    for (first, last) in runs {
        out.line(format!("Erasing internal memory sectors [{first} {last}]"));
        let (a, b) = (layout.sector(first), layout.sector(last));
        let (a, b) = (a.expect("checked"), b.expect("checked"));
        let len = (b.end() - a.address as u64) as u32;
        job::erase_range(
            &mut board.dfu,
            a.address,
            len,
            &mut erase_lines(out),
            &CancelToken::new(),
        )
        .map_err(|e| format!("Error: Erase operation failed: {e}"))?;
    }
    out.line("Erase operation achieved successfully");
    Ok(())
}

/// `-v`: the job already read back every byte it wrote; this reports it as CubeProgrammer does.
fn verify(out: &mut Out, last: Option<&Downloaded>) -> Result<(), String> {
    last.ok_or("Error: -v verifies a download: give it after -d FILE")?;
    out.line("");
    out.line("Verifying ...");
    out.line("");
    out.line("Read progress:");
    // Done: the job read back what it wrote, and compared what it left alone.
    out.bar(1, 1);
    out.line("");
    out.line("Download verified successfully");
    Ok(())
}

/// `-s`/`-g`: leave DFU mode and run from the address (the download's, else the flash's).
fn start(out: &mut Out, board: &mut Board, at: Option<u32>) -> Result<(), String> {
    let at = at
        .or_else(|| {
            board
                .flash_layout()
                .and_then(|l| l.groups.first().map(|g| g.start))
        })
        .unwrap_or(0x0800_0000);
    out.line("");
    out.line("RUNNING Program ... ");
    out.line(format!("  Address:      : {at:#x}"));
    let result = job::leave(&mut board.dfu, Some(at));
    board.save();
    result.map_err(|e| format!("Error: Start operation failed: {e}"))?;
    out.line("Start operation achieved successfully");
    Ok(())
}

/// `-u ADDRESS SIZE FILE.bin`: the memory into a binary file.
fn upload(
    out: &mut Out,
    board: &mut Board,
    address: u32,
    size: u32,
    file: &str,
) -> Result<(), String> {
    if !file.to_ascii_lowercase().ends_with(".bin") {
        return Err(format!(
            "Error: {file}: uploads to binary files (.bin) only are supported by this drop-in"
        ));
    }
    out.line("");
    out.line("Reading data ...");
    out.line("");
    out.line("Read progress:");
    let started = std::time::Instant::now();
    let data = job::read(
        &mut board.dfu,
        address,
        size,
        &mut |ev: &Event<'_>| {
            if let Event::Progress { done, total, .. } = *ev {
                out.bar(done, total);
            }
            Flow::Continue
        },
        &CancelToken::new(),
    )
    .map_err(|e| format!("Error: Data read failed: {e}"))?;
    out.bar(1, 1);
    std::fs::write(file, &data).map_err(|e| format!("Error: cannot write {file}: {e}"))?;
    out.line("");
    out.line("Data read successfully");
    out.line(format!(
        "Time elapsed during the read operation is: {}",
        elapsed(started.elapsed())
    ));
    Ok(())
}
