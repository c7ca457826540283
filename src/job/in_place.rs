//! Memory the plan writes without erasing it first (OTP, and other memory that is not flash or
//! option bytes): programming only clears bits, so where it already holds a byte the image's
//! cannot be made of, the device would fail the write half way through. Such memory is read
//! first and the image refused, naming the sector, before anything is written. Option bytes are
//! left out: ST's ROMs erase them themselves before writing new ones (AN3155, Write Memory).

use super::ctx::{cancelled, Ctx};
use crate::error::Error;
use crate::plan::{FlashPlan, MemoryKind, PlanError, TargetPlan};
use crate::progress::{Level, Phase};
use crate::protocol::Dfu;
use crate::transport::Transport;

/// Reads what the plan will write in place and refuses the image where a bit it needs set is
/// clear. Memory the layout marks unreadable, or a device that cannot upload, cannot be checked:
/// it is written as planned, and a refusal is the device's own error.
pub(super) fn refuse_unwritable<T: Transport>(
    dfu: &mut Dfu<T>,
    plan: &FlashPlan,
    ctx: &mut Ctx<'_>,
) -> Result<(), Error> {
    let targets: Vec<&TargetPlan> = plan.targets.iter().filter(|t| in_place(t)).collect();
    if targets.is_empty() {
        return Ok(());
    }
    if !dfu.info().functional.can_upload() {
        ctx.log(
            Level::Info,
            "the device cannot upload: memory written without an erase is not read first",
        );
        return Ok(());
    }
    for t in targets {
        if dfu.alt() != t.alt {
            dfu.select_alt(t.alt)?;
        }
        for w in &t.writes {
            let mut found = None;
            let complete = dfu.read_blocks(w.address, w.data.len(), &mut |at, block| {
                let off = (at - w.address) as usize;
                let wanted = &w.data[off..off + block.len()];
                found = block
                    .iter()
                    .zip(wanted)
                    .position(|(h, n)| h & n != *n)
                    .map(|i| (at + i as u32, block[i], wanted[i]));
                found.is_none() && !ctx.stop()
            });
            ctx.pump(dfu);
            if let Some((address, held, wanted)) = found {
                dfu.ensure_idle()?;
                let sector = t.layout.sector_at(address).map_or(address, |s| s.address);
                return Err(PlanError::Occupied {
                    alt: t.alt,
                    sector,
                    address,
                    held,
                    wanted,
                    layout: t.layout.source.clone(),
                }
                .into());
            }
            if !complete? {
                return Err(cancelled(dfu, ctx, Phase::Compare));
            }
        }
    }
    dfu.ensure_idle()?;
    Ok(())
}

/// A target written without an erase whose memory can be read: not flash (erased first), not
/// option bytes (erased by the ROM), every sector it writes readable.
fn in_place(t: &TargetPlan) -> bool {
    let kind = MemoryKind::of(&t.layout.name);
    let readable = t.writes.iter().all(|w| {
        let mut a = w.address as u64;
        while a < w.end() {
            match t.layout.sector_at(a as u32) {
                Some(s) if s.perms.readable() => a = s.end(),
                _ => return false,
            }
        }
        true
    });
    !matches!(kind, MemoryKind::Flash | MemoryKind::OptionBytes)
        && t.erase.is_empty()
        && !t.writes.is_empty()
        && readable
}
