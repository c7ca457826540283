//! The boot block goes last (see [`crate::plan::BootBlock`]): the order in which the runs of a
//! plan are written, each segment's first block after its other blocks and the boot block left
//! out; then, after everything else is written and verified, the boot block itself, written
//! and read back.

use super::check::{read_back, Check, CheckKind, Expect};
use super::ctx::{cancelled, Ctx};
use super::write_error::explain_write_error;
use super::Report;
use crate::error::Error;
use crate::image::Image;
use crate::plan::{BootBlock, FlashPlan};
use crate::progress::{Event, Level, Phase};
use crate::protocol::Dfu;
use crate::transport::Transport;

/// Bytes to write to one alt setting at one address.
pub(super) struct Piece<'p> {
    pub(super) target: usize,
    pub(super) address: u32,
    pub(super) data: &'p [u8],
}

/// What the write phase sends, in order. With a boot block: each run's first block after the
/// rest of the run, and the boot block not at all (it comes last, on its own). Without: the
/// runs as they are.
pub(super) fn pieces<'p>(plan: &'p FlashPlan, boot: Option<&BootBlock>) -> Vec<Piece<'p>> {
    let mut out = Vec::new();
    for (n, t) in plan.targets.iter().enumerate() {
        for w in &t.writes {
            let head = boot.map_or(w.data.len(), |b| b.len.min(w.data.len()));
            let (first, rest) = w.data.split_at(head);
            if !rest.is_empty() {
                out.push(Piece {
                    target: n,
                    address: w.address + head as u32,
                    data: rest,
                });
            }
            let is_boot = boot.is_some_and(|b| n == b.target && w.address == b.address);
            if !is_boot {
                out.push(Piece {
                    target: n,
                    address: w.address,
                    data: first,
                });
            }
        }
    }
    out
}

/// Writes the boot block, then (with `verify`) reads it back: the last step of the flash.
pub(super) fn write_boot_block<T: Transport>(
    dfu: &mut Dfu<T>,
    plan: &FlashPlan,
    b: &BootBlock,
    image: &Image,
    verify: bool,
    ctx: &mut Ctx<'_>,
    report: &mut Report,
) -> Result<(), Error> {
    let t = &plan.targets[b.target];
    // As `pieces` cut it: with no run at its address, nothing was held back for it.
    let Some(run) = t.writes.iter().find(|w| w.address == b.address) else {
        return Ok(());
    };
    let data = &run.data[..b.len.min(run.data.len())];
    let len = data.len() as u64;
    let total = if verify { 2 * len } else { len };
    ctx.emit(&Event::PhaseStart {
        phase: Phase::Boot,
        total,
    });
    if dfu.alt() != t.alt {
        dfu.select_alt(t.alt)?;
    }
    if ctx.stop() {
        return Err(cancelled(dfu, ctx, Phase::Boot));
    }
    let complete = {
        let ctx2 = &mut *ctx;
        dfu.write_memory(b.address, data, &mut |at, done| {
            ctx2.emit(&Event::Progress {
                phase: Phase::Boot,
                done: done as u64,
                total,
                address: at,
                sector: None,
            });
            !ctx2.stop()
        })
    };
    ctx.pump(dfu);
    if !complete.map_err(|e| explain_write_error(e, &report.workaround_sectors, t))? {
        return Err(cancelled(dfu, ctx, Phase::Boot));
    }
    report.bytes_written += len;
    report.boot_block = Some(b.address);
    if verify {
        let check = Check {
            alt: t.alt,
            address: b.address,
            len: data.len(),
            expect: Expect::Bytes(data.to_vec()),
            kind: CheckKind::Image,
        };
        if !read_back(dfu, &check, Phase::Boot, (len, total), ctx)? {
            return Err(cancelled(dfu, ctx, Phase::Boot));
        }
        report.bytes_verified += image_bytes_in(image, t.alt, b);
    }
    ctx.log(
        Level::Info,
        &format!(
            "boot block ({} bytes at {:#010x}) written last{}",
            data.len(),
            b.address,
            if verify { " and verified" } else { "" }
        ),
    );
    Ok(())
}

/// Bytes of the image's own (unpadded) data in the boot block.
fn image_bytes_in(image: &Image, alt: u8, b: &BootBlock) -> u64 {
    let (start, end) = b.range();
    image
        .targets
        .iter()
        .filter(|it| it.alt == alt)
        .flat_map(|it| &it.segments)
        .map(|s| end.min(s.end()).saturating_sub(start.max(s.address as u64)))
        .sum()
}
