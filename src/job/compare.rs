//! The differential flash's first step: read each planned sector and leave alone those that
//! already hold exactly what the flash would leave there. Reading a sector stops at its first
//! difference, so an image that changed everywhere costs about one block per sector.

use super::ctx::{cancelled, Ctx};
use super::readback::Piece;
use super::{FlashOptions, Report};
use crate::error::Error;
use crate::image::Image;
use crate::layout::Sector;
use crate::plan::{BootBlock, FlashPlan, MemoryKind, TargetPlan};
use crate::progress::{Event, Level, Phase};
use crate::protocol::{Dfu, ProtocolError};
use crate::transport::Transport;

/// The plan without the sectors that already hold what it would leave there; those land in
/// `report.sectors_skipped`, and the image bytes in them count as verified.
/// Where the device cannot be read, the sectors not yet compared stay in the plan and the log
/// says why; a device that vanished fails the job.
pub(super) fn skip_unchanged<T: Transport>(
    dfu: &mut Dfu<T>,
    image: &Image,
    plan: &FlashPlan,
    opts: &FlashOptions,
    boot: Option<&BootBlock>,
    ctx: &mut Ctx<'_>,
    report: &mut Report,
) -> Result<FlashPlan, Error> {
    if opts.full || plan.mass_erase {
        return Ok(plan.clone());
    }
    let total: u64 = plan
        .targets
        .iter()
        .flat_map(comparable)
        .map(|s| s.size as u64)
        .sum();
    if total == 0 {
        return Ok(plan.clone());
    }
    if !dfu.info().functional.can_upload() {
        ctx.log(
            Level::Info,
            "the device cannot upload (bitCanUpload is clear): every planned sector is erased and written",
        );
        return Ok(plan.clone());
    }
    ctx.emit(&Event::PhaseStart {
        phase: Phase::Compare,
        total,
    });
    let mut progress = Progress { done: 0, total };
    let mut skipped = Vec::new();
    let mut read = Vec::new();
    for (n, t) in plan.targets.iter().enumerate() {
        let sectors = comparable(t);
        if sectors.is_empty() {
            continue;
        }
        if dfu.alt() != t.alt {
            dfu.select_alt(t.alt)?;
        }
        match unchanged_sectors(dfu, t, &sectors, ctx, &mut progress) {
            Ok(Some(found)) => {
                skipped.push((n, found.same));
                read.push((t.alt, found.pieces));
            }
            Ok(None) => return Err(cancelled(dfu, ctx, Phase::Compare)),
            // Gone, cancelled or out of time: the job ends here.
            Err(e @ (ProtocolError::Interrupted { .. } | ProtocolError::JobDeadline { .. })) => {
                return Err(e.into())
            }
            Err(e) if e.is_disconnect() => return Err(e.into()),
            Err(e) => {
                // Read protection, an unreadable address, a short or late answer: the device
                // may still take a full flash, once it is back in dfuIDLE.
                ctx.pump(dfu);
                if dfu.ensure_idle().is_err() {
                    return Err(e.into());
                }
                ctx.log(
                    Level::Warn,
                    &format!("{e}: the device could not be read, so the sectors not yet compared are erased and written"),
                );
                break;
            }
        }
        ctx.pump(dfu);
    }
    if progress.done < total {
        // The phase ends here even when a refusal cut it short.
        ctx.emit(&Event::Progress {
            phase: Phase::Compare,
            done: total,
            total,
            address: 0,
            sector: None,
        });
    }
    if let Some(b) = boot {
        keep_boot_sector_in(plan, &mut skipped, b, ctx);
    }
    // What was read of the sectors left alone is what they hold after the job.
    for (alt, pieces) in read {
        let same = &skipped.iter().find(|(n, _)| plan.targets[*n].alt == alt);
        ctx.readback.commit(
            pieces
                .into_iter()
                .filter(|(sector, _)| same.is_some_and(|(_, s)| s.contains(sector)))
                .map(|(_, p)| p),
        );
    }
    let mut narrowed = plan.clone();
    for (n, same) in skipped {
        let t = &mut narrowed.targets[n];
        *t = t.without_sectors(&same);
        // Read and found equal: verified, whether or not a verify follows the writing.
        report.bytes_verified += image_bytes_in(image, t);
        report.sectors_skipped.extend(same);
    }
    let n = report.sectors_skipped.len();
    if n > 0 {
        ctx.log(
            Level::Info,
            &format!(
                "{n} of {} planned sectors already hold the image: left alone",
                plan.sectors()
            ),
        );
    }
    Ok(narrowed)
}

/// When anything else is erased, the sector of the boot block is erased and written too, even
/// if it already holds the image: a power cut must never leave the boot block of a half image
/// in place (see [`crate::plan::BootBlock`]).
fn keep_boot_sector_in(
    plan: &FlashPlan,
    skipped: &mut [(usize, Vec<u32>)],
    b: &BootBlock,
    ctx: &mut Ctx<'_>,
) {
    let erases_more = plan.targets.iter().enumerate().any(|(n, t)| {
        t.erase.iter().any(|s| {
            !skipped
                .iter()
                .any(|(k, same)| *k == n && same.contains(&s.address))
        })
    });
    if !erases_more {
        return;
    }
    for (k, same) in skipped.iter_mut().filter(|(k, _)| *k == b.target) {
        if let Some(i) = same.iter().position(|a| *a == b.sector) {
            same.remove(i);
            let _ = k;
            ctx.log(
                Level::Info,
                &format!(
                    "sector {:#010x} holds the boot block: erased and written last, since other sectors change",
                    b.sector
                ),
            );
        }
    }
}

/// The planned sectors of `t` that can be compared: flash (never option bytes or OTP, which
/// are written as asked) that the layout says is readable.
fn comparable(t: &TargetPlan) -> Vec<Sector> {
    if MemoryKind::of(&t.layout.source) != MemoryKind::Flash {
        return Vec::new();
    }
    t.erase
        .iter()
        .filter(|s| s.perms.readable())
        .cloned()
        .collect()
}

/// The compare phase's progress, in bytes of the sectors compared.
struct Progress {
    done: u64,
    total: u64,
}

/// What a comparison found: the sectors that hold what the plan leaves there, and what was read
/// of them, by sector address.
struct Compared {
    same: Vec<u32>,
    pieces: Vec<(u32, Piece)>,
}

/// Reads `sectors` (in address order) and returns those that hold what `t` leaves there; None
/// when cancelled. Contiguous sectors are read in one stream; a sector's
/// first difference ends its reading, and the stream starts again at the next sector.
fn unchanged_sectors<T: Transport>(
    dfu: &mut Dfu<T>,
    t: &TargetPlan,
    sectors: &[Sector],
    ctx: &mut Ctx<'_>,
    progress: &mut Progress,
) -> Result<Option<Compared>, ProtocolError> {
    let mut differs = vec![false; sectors.len()];
    let cutter = ctx.readback.cutter();
    let mut pieces = Vec::new();
    let mut expected = Vec::new();
    let mut i = 0;
    while i < sectors.len() {
        // A run of contiguous sectors from i.
        let mut j = i + 1;
        while j < sectors.len() && sectors[j].address as u64 == sectors[j - 1].end() {
            j += 1;
        }
        let start = sectors[i].address;
        let len = (sectors[j - 1].end() - start as u64) as usize;
        let mut current = i;
        let mut resume_at = None;
        let base = progress.done;
        if ctx.stop() {
            return Ok(None);
        }
        let complete = dfu.read_blocks(start, len, &mut |at, block| {
            expected.resize(block.len(), 0);
            t.leaves(at, &mut expected);
            let block_end = at as u64 + block.len() as u64;
            // Every sector this block overlaps, from the current one.
            let mut k = current;
            while k < j && (sectors[k].address as u64) < block_end {
                let from = (sectors[k].address.max(at) - at) as usize;
                let to = (sectors[k].end().min(block_end) - at as u64) as usize;
                if block[from..to] != expected[from..to] {
                    differs[k] = true;
                } else if !differs[k] {
                    let at = sectors[k].address.max(at);
                    let cut = cutter.pieces(t.alt, at, &block[from..to]);
                    pieces.extend(cut.into_iter().map(|p| (sectors[k].address, p)));
                }
                k += 1;
            }
            while current < j && sectors[current].end() <= block_end {
                current += 1;
            }
            let mut read_to = block_end;
            // The rest of a sector already found different is not read.
            if current < j && differs[current] {
                read_to = sectors[current].end();
                resume_at = Some(current + 1);
            }
            progress.done = base + (read_to - start as u64);
            ctx.emit(&Event::Progress {
                phase: Phase::Compare,
                done: progress.done,
                total: progress.total,
                address: at,
                sector: None,
            });
            resume_at.is_none() && !ctx.stop()
        })?;
        match resume_at {
            Some(next) => i = next,
            None if !complete => return Ok(None),
            None => i = j,
        }
        if ctx.stop() {
            return Ok(None);
        }
    }
    Ok(Some(Compared {
        same: sectors
            .iter()
            .zip(&differs)
            .filter(|(_, d)| !**d)
            .map(|(s, _)| s.address)
            .collect(),
        pieces,
    }))
}

/// Bytes of the image's own (unpadded) data inside the unchanged sectors of target `t`.
fn image_bytes_in(image: &Image, t: &TargetPlan) -> u64 {
    let ranges = t.unchanged_ranges();
    image
        .targets
        .iter()
        .filter(|it| it.alt == t.alt)
        .flat_map(|it| &it.segments)
        .map(|seg| {
            ranges
                .iter()
                .map(|&(s, e)| e.min(seg.end()).saturating_sub(s.max(seg.address as u64)))
                .sum::<u64>()
        })
        .sum()
}
