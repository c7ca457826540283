//! The DfuSe (ST) flash as named steps: compare, erase, write, then read back what was written
//! and what the Rev V recovery erased; the boot block last of all.

use super::boot_last::{pieces, write_boot_block, Piece};
use super::check::{read_back, Check, CheckKind, Expect};
use super::compare::skip_unchanged;
use super::ctx::{cancelled, Ctx};
use super::erase::{erase_sector, unreadable_recovered};
use super::in_place::refuse_unwritable;
use super::write_error::explain_write_error;
use super::{FlashOptions, Report};
use crate::error::Error;
use crate::image::{Image, Segment};
use crate::layout::Sector;
use crate::plan::{cut, BootBlock, FlashPlan, TargetPlan, MASS_ERASED_ALT};
use crate::progress::{Event, Level, Phase};
use crate::protocol::Dfu;
use crate::transport::Transport;

pub(super) fn flash_dfuse<T: Transport>(
    dfu: &mut Dfu<T>,
    image: &Image,
    plan: &FlashPlan,
    opts: &FlashOptions,
    ctx: &mut Ctx<'_>,
    report: &mut Report,
) -> Result<(), Error> {
    dfu.ensure_idle()?;
    ctx.pump(dfu);
    refuse_unwritable(dfu, plan, ctx)?;
    report.sectors_planned = plan.sectors();
    let boot = opts
        .boot_last
        .then(|| plan.boot_block(dfu.transfer_size()))
        .flatten();
    let narrowed = &skip_unchanged(dfu, image, plan, opts, boot.as_ref(), ctx, report)?;
    // The boot block is written when its sector is erased; else it already holds the image.
    let boot = boot.filter(|b| {
        narrowed.mass_erase
            || narrowed.targets[b.target]
                .erase
                .iter()
                .any(|s| s.address == b.sector)
    });
    let by_element;
    let steps = if opts.element_order {
        by_element = narrowed.by_element(image, boot.as_ref());
        &by_element[..]
    } else {
        std::slice::from_ref(narrowed)
    };
    // The block every plan here writes at its address: the run there may be shorter than one
    // transfer once unchanged sectors or other elements are cut out of it.
    let boot = boot.map(|b| steps.iter().fold(b.cut_to(narrowed), |b, s| b.cut_to(s)));
    for step in steps {
        erase_sectors(dfu, step, boot.as_ref(), ctx, report)?;
        write_blocks(dfu, step, &pieces(step, boot.as_ref()), ctx, report)?;
    }
    let checks = read_back_list(
        image,
        narrowed,
        plan,
        opts,
        boot.as_ref(),
        &report.workaround_sectors,
        ctx,
    );
    verify(dfu, &checks, ctx, report)?;
    if let Some(b) = &boot {
        write_boot_block(dfu, narrowed, b, image, opts.verify, ctx, report)?;
    }
    // Every byte of each recovered sector has now been read back (by the verify, or by the
    // check of what the image leaves out).
    for sector in &report.workaround_sectors {
        ctx.log(
            Level::Info,
            &format!("sector {sector:#010x}: the Rev V recovery's erase is checked by read-back"),
        );
    }
    // Writing leaves dfuDNLOAD-IDLE; reading back ends in dfuIDLE. Either way, end there.
    let ended_writing = match boot {
        Some(_) => !opts.verify,
        None => checks.is_empty(),
    };
    if ended_writing {
        dfu.ensure_idle()?;
        ctx.pump(dfu);
    }
    Ok(())
}

/// Erases the planned sectors (or the whole chip) of every target, the boot block's target
/// first: before any write (or, element by element, before the element's writes), so a refusal
/// of the device shows first. Sectors the Rev V recovery erased land in the report.
fn erase_sectors<T: Transport>(
    dfu: &mut Dfu<T>,
    plan: &FlashPlan,
    boot: Option<&BootBlock>,
    ctx: &mut Ctx<'_>,
    report: &mut Report,
) -> Result<(), Error> {
    let total = plan.mass_erase as usize + plan.sectors();
    ctx.emit(&Event::PhaseStart {
        phase: Phase::Erase,
        total: total as u64,
    });
    if plan.mass_erase {
        if ctx.stop() {
            return Err(cancelled(dfu, ctx, Phase::Erase));
        }
        dfu.select_alt(MASS_ERASED_ALT)?;
        dfu.mass_erase()?;
        report.mass_erased = true;
        ctx.emit(&Event::Progress {
            phase: Phase::Erase,
            done: 1,
            total: total as u64,
            address: 0,
            sector: None,
        });
    }
    // Sectors the mass erase does not reach (another alt setting's) follow it.
    let mut k = plan.mass_erase as usize;
    // The boot block's target first: its sector (the lowest it erases) goes before any other,
    // so a power cut never leaves the old firmware bootable beside another target half erased.
    let first = boot.map(|b| b.target);
    let order = first
        .into_iter()
        .chain((0..plan.targets.len()).filter(|&n| Some(n) != first));
    for t in order
        .map(|n| &plan.targets[n])
        .filter(|t| !t.erase.is_empty())
    {
        if dfu.alt() != t.alt {
            dfu.select_alt(t.alt)?;
        }
        for s in &t.erase {
            if ctx.stop() {
                return Err(cancelled(dfu, ctx, Phase::Erase));
            }
            k += 1;
            erase_sector(dfu, s, k, total, ctx, report)?;
        }
    }
    Ok(())
}

/// Writes the pieces in order, block by block; cancellation stops between blocks.
fn write_blocks<T: Transport>(
    dfu: &mut Dfu<T>,
    plan: &FlashPlan,
    pieces: &[Piece<'_>],
    ctx: &mut Ctx<'_>,
    report: &mut Report,
) -> Result<(), Error> {
    let total: u64 = pieces.iter().map(|p| p.data.len() as u64).sum();
    ctx.emit(&Event::PhaseStart {
        phase: Phase::Write,
        total,
    });
    let mut base = 0u64;
    for p in pieces {
        let t = &plan.targets[p.target];
        if dfu.alt() != t.alt {
            dfu.select_alt(t.alt)?;
        }
        if ctx.stop() {
            return Err(cancelled(dfu, ctx, Phase::Write));
        }
        let done_so_far = base;
        let complete = {
            let ctx2 = &mut *ctx;
            dfu.write_memory(p.address, p.data, &mut |at, done| {
                ctx2.emit(&Event::Progress {
                    phase: Phase::Write,
                    done: done_so_far + done as u64,
                    total,
                    address: at,
                    sector: None,
                });
                !ctx2.stop()
            })
        };
        ctx.pump(dfu);
        let complete =
            complete.map_err(|e| explain_write_error(e, &report.workaround_sectors, t))?;
        if !complete {
            return Err(cancelled(dfu, ctx, Phase::Write));
        }
        base += p.data.len() as u64;
        // Element by element, each step adds to what the earlier ones wrote.
        report.bytes_written += p.data.len() as u64;
    }
    Ok(())
}

/// What to read back: the image's bytes outside the unchanged sectors (with verify on; the
/// comparison read the others) and the unchanged sectors an erase could have reached, plus
/// whatever of a recovered sector the image does not cover.
fn read_back_list<'p>(
    image: &Image,
    plan: &'p FlashPlan,
    whole: &'p FlashPlan,
    opts: &FlashOptions,
    boot: Option<&BootBlock>,
    recovered: &[u32],
    ctx: &mut Ctx<'_>,
) -> Vec<Check<'p>> {
    let mut checks = Vec::new();
    for (n, (t, whole)) in plan.targets.iter().zip(&whole.targets).enumerate() {
        // The boot block is written and read back after all this, on its own.
        let boot_here = boot.filter(|b| b.target == n);
        let mut unchanged = t.unchanged_ranges();
        unchanged.extend(boot_here.map(BootBlock::range));
        unchanged.sort_unstable();
        let segments: Vec<Segment> = image
            .targets
            .iter()
            .find(|it| it.alt == t.alt)
            .expect("planned from the image")
            .segments
            .iter()
            .flat_map(|s| cut(s, &unchanged))
            .collect();
        let mut read_anyway: Vec<Segment> = if opts.verify {
            segments.clone()
        } else {
            Vec::new()
        };
        read_anyway.extend(boot_here.map(|b| Segment::new(b.address, vec![0; b.len])));
        read_anyway.sort_by_key(|s| s.address);
        let recovered_checks = check_recovered_sectors(t, &read_anyway, recovered, ctx);
        if opts.verify {
            checks.extend(segments.into_iter().map(|s| Check {
                alt: t.alt,
                address: s.address,
                len: s.data.len(),
                expect: Expect::Bytes(s.data),
                kind: CheckKind::Image,
            }));
            checks.extend(unchanged_to_recheck(t, whole));
        } else {
            // What the comparison read there may predate an erase that reached it: without
            // the verify's second reading, it is not what the board holds.
            for c in unchanged_to_recheck(t, whole) {
                let start = c.address as u64;
                ctx.readback.forget(c.alt, start, start + c.len as u64);
            }
        }
        checks.extend(recovered_checks);
    }
    checks
}

/// The unchanged sectors of `t` an erase could have reached unseen, whole, with what each
/// must hold (what `whole`, the plan before narrowing, leaves there). From each erased sector
/// outwards, through the unchanged sectors of the plan in address order (up to the next erased
/// one): each is read again, up to and including the first that must hold something besides
/// 0xFF. An erase wipes one contiguous range around its address, so past a byte it left intact
/// it reached nothing; an erased-looking sector proves nothing, so the walk goes on past it. The
/// layout says no erase reaches another sector; nothing else would notice a device on which one
/// does.
fn unchanged_to_recheck<'p>(t: &TargetPlan, whole: &'p TargetPlan) -> Vec<Check<'p>> {
    // Every planned sector in address order: erased (true) or unchanged (false).
    let mut all: Vec<(&Sector, bool)> = t
        .erase
        .iter()
        .map(|s| (s, true))
        .chain(t.unchanged.iter().map(|s| (s, false)))
        .collect();
    all.sort_by_key(|(s, _)| s.address);
    let mut picked = vec![false; all.len()];
    let intact_proves = |s: &Sector| !whole.leaves_blank(s.address as u64, s.end());
    for (i, _) in all.iter().enumerate().filter(|(_, (_, erased))| *erased) {
        for k in (0..i).rev().take_while(|&k| !all[k].1) {
            picked[k] = true;
            if intact_proves(all[k].0) {
                break;
            }
        }
        for k in (i + 1..all.len()).take_while(|&k| !all[k].1) {
            picked[k] = true;
            if intact_proves(all[k].0) {
                break;
            }
        }
    }
    all.iter()
        .zip(picked)
        .filter(|(_, p)| *p)
        .map(|((s, _), _)| Check {
            alt: t.alt,
            address: s.address,
            len: s.size as usize,
            expect: Expect::Leaves(whole),
            kind: CheckKind::Unchanged,
        })
        .collect()
}

/// The parts of `t`'s recovered sectors that `read_anyway` leaves out, each with the bytes it
/// must hold: what the plan wrote there, else 0xFF. Nobody has shown the recovery completes the
/// erase, so every byte of such a sector is read back, when the layout lets it be read.
fn check_recovered_sectors<'p>(
    t: &'p TargetPlan,
    read_anyway: &[Segment],
    recovered: &[u32],
    ctx: &mut Ctx<'_>,
) -> Vec<Check<'p>> {
    let mut checks = Vec::new();
    for s in t.erase.iter().filter(|s| recovered.contains(&s.address)) {
        if !s.perms.readable() {
            ctx.log(Level::Warn, &unreadable_recovered(s.address));
            continue;
        }
        for (a, e) in uncovered(s.address as u64, s.end(), read_anyway) {
            checks.push(Check {
                alt: t.alt,
                address: a as u32,
                len: (e - a) as usize,
                expect: Expect::Leaves(t),
                kind: CheckKind::Recovered(s.address),
            });
        }
    }
    checks
}

/// Reads every check back block by block and compares it; only the image's own bytes count as
/// verified.
fn verify<T: Transport>(
    dfu: &mut Dfu<T>,
    checks: &[Check<'_>],
    ctx: &mut Ctx<'_>,
    report: &mut Report,
) -> Result<(), Error> {
    if checks.is_empty() {
        return Ok(());
    }
    let total: u64 = checks.iter().map(|c| c.len as u64).sum();
    ctx.emit(&Event::PhaseStart {
        phase: Phase::Verify,
        total,
    });
    let mut base = 0u64;
    for check in checks {
        if dfu.alt() != check.alt {
            dfu.select_alt(check.alt)?;
        }
        if ctx.stop() {
            return Err(cancelled(dfu, ctx, Phase::Verify));
        }
        if !read_back(dfu, check, Phase::Verify, (base, total), ctx)? {
            return Err(cancelled(dfu, ctx, Phase::Verify));
        }
        base += check.len as u64;
        match check.kind {
            CheckKind::Image => report.bytes_verified += check.len as u64,
            CheckKind::Recovered(_) | CheckKind::Unchanged => {
                report.bytes_checked += check.len as u64
            }
        }
    }
    Ok(())
}

/// Parts of [start, end) not covered by `segments`.
fn uncovered(start: u64, end: u64, segments: &[Segment]) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    let mut a = start;
    for s in segments
        .iter()
        .filter(|s| s.end() > start && (s.address as u64) < end)
    {
        if (s.address as u64) > a {
            out.push((a, s.address as u64));
        }
        a = a.max(s.end());
    }
    if a < end {
        out.push((a, end));
    }
    out
}
