//! The DfuSe (ST) flash: erase, write, then read back what was written and what the Rev V
//! recovery erased.

use super::ctx::{cancelled, Ctx};
use super::{FlashOptions, Report};
use crate::error::Error;
use crate::image::{Image, Segment};
use crate::plan::{self, FlashPlan};
use crate::progress::{Event, Phase, SectorProgress};
use crate::protocol::{Dfu, ProtocolError};
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

    // Erase, every target first, so a refusal of the device shows before any write.
    let total = if plan.mass_erase { 1 } else { plan.sectors() };
    ctx.emit(&Event::PhaseStart {
        phase: Phase::Erase,
        total: total as u64,
    });
    if plan.mass_erase {
        if ctx.stop() {
            return Err(cancelled(dfu, ctx, Phase::Erase));
        }
        dfu.select_alt(plan.targets.first().map(|t| t.alt).unwrap_or(0))?;
        dfu.mass_erase()?;
        report.mass_erased = true;
        ctx.emit(&Event::Progress {
            phase: Phase::Erase,
            done: 1,
            total: 1,
            address: 0,
            sector: None,
        });
    }
    let mut k = 0;
    for t in &plan.targets {
        if dfu.alt() != t.alt {
            dfu.select_alt(t.alt)?;
        }
        for s in &t.erase {
            if ctx.stop() {
                return Err(cancelled(dfu, ctx, Phase::Erase));
            }
            let outcome = dfu.erase_page(s.address);
            ctx.pump(dfu);
            let outcome = outcome?;
            k += 1;
            report.sectors_erased.push(s.address);
            if outcome.workaround {
                report.workaround_sectors.push(s.address);
                ctx.emit(&Event::Workaround { address: s.address });
            }
            ctx.emit(&Event::Progress {
                phase: Phase::Erase,
                done: k as u64,
                total: total as u64,
                address: s.address,
                sector: Some(SectorProgress {
                    index: s.index,
                    k,
                    n: total,
                }),
            });
        }
    }

    // Write.
    let total = plan.write_bytes();
    ctx.emit(&Event::PhaseStart {
        phase: Phase::Write,
        total,
    });
    let mut base = 0u64;
    for t in &plan.targets {
        if dfu.alt() != t.alt {
            dfu.select_alt(t.alt)?;
        }
        for run in &t.writes {
            if ctx.stop() {
                return Err(cancelled(dfu, ctx, Phase::Write));
            }
            let address = run.address;
            let done_so_far = base;
            let complete = {
                let ctx2 = &mut *ctx;
                let xfer = dfu.transfer_size();
                dfu.write_memory(address, &run.data, &mut |done| {
                    let at = address + (done - 1) as u32 / xfer as u32 * xfer as u32;
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
                report.bytes_written = base;
                return Err(cancelled(dfu, ctx, Phase::Write));
            }
            base += run.data.len() as u64;
            report.bytes_written = base;
        }
    }

    // Verify: the image's bytes, plus whatever of a recovered sector the image does not cover.
    let mut checks: Vec<(u8, Segment, Option<u32>)> = Vec::new();
    for t in &plan.targets {
        let segments = &image
            .targets
            .iter()
            .find(|it| it.alt == t.alt)
            .expect("planned from the image")
            .segments;
        if opts.verify {
            checks.extend(segments.iter().map(|s| (t.alt, s.clone(), None)));
        }
        for s in t
            .erase
            .iter()
            .filter(|s| report.workaround_sectors.contains(&s.address))
        {
            for (a, e) in uncovered(
                s.address as u64,
                s.end(),
                if opts.verify { segments } else { &[] },
            ) {
                let data: Vec<u8> = (a..e).map(|x| expected_byte(&t.writes, x as u32)).collect();
                checks.push((t.alt, Segment::new(a as u32, data), Some(s.address)));
            }
        }
    }
    if checks.is_empty() {
        return Ok(());
    }
    let total: u64 = checks.iter().map(|c| c.1.data.len() as u64).sum();
    ctx.emit(&Event::PhaseStart {
        phase: Phase::Verify,
        total,
    });
    let mut base = 0u64;
    let mut buf = Vec::new();
    for (alt, seg, recovered) in &checks {
        if dfu.alt() != *alt {
            dfu.select_alt(*alt)?;
        }
        if ctx.stop() {
            return Err(cancelled(dfu, ctx, Phase::Verify));
        }
        buf.clear();
        buf.resize(seg.data.len(), 0);
        let done_so_far = base;
        let complete = {
            let ctx2 = &mut *ctx;
            let address = seg.address;
            dfu.read_memory(address, &mut buf, &mut |done| {
                ctx2.emit(&Event::Progress {
                    phase: Phase::Verify,
                    done: done_so_far + done as u64,
                    total,
                    address: address + done as u32,
                    sector: None,
                });
                !ctx2.stop()
            })
        };
        ctx.pump(dfu);
        if !complete? {
            return Err(cancelled(dfu, ctx, Phase::Verify));
        }
        if let Some(i) = buf.iter().zip(&seg.data).position(|(a, b)| a != b) {
            let address = seg.address + i as u32;
            if let Some(sector) = recovered {
                return Err(Error::WorkaroundCheck {
                    sector: *sector,
                    address,
                    found: buf[i],
                });
            }
            return Err(Error::Verify {
                alt: *alt,
                address,
                expected: seg.data[i],
                found: buf[i],
                mismatches: buf.iter().zip(&seg.data).filter(|(a, b)| a != b).count(),
                segment: seg.address,
                len: seg.data.len(),
            });
        }
        base += seg.data.len() as u64;
        if recovered.is_none() {
            report.bytes_verified += seg.data.len() as u64;
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

fn expected_byte(writes: &[Segment], address: u32) -> u8 {
    writes
        .iter()
        .find(|w| address >= w.address && (address as u64) < w.end())
        .map(|w| w.data[(address - w.address) as usize])
        .unwrap_or(0xff)
}

/// A write that fails inside a sector erased through the Rev V recovery says so: that erase is
/// the likely cause.
fn explain_write_error(e: ProtocolError, recovered: &[u32], t: &plan::TargetPlan) -> Error {
    let failed_at = match &e {
        ProtocolError::DeviceStatus {
            address: Some(a), ..
        }
        | ProtocolError::StuckBusy {
            address: Some(a), ..
        } => *a,
        _ => return e.into(),
    };
    let hit = t.erase.iter().find(|s| {
        recovered.contains(&s.address) && (s.address as u64..s.end()).contains(&(failed_at as u64))
    });
    match hit {
        Some(s) => Error::WriteAfterRecovery {
            sector: s.address,
            source: e,
        },
        None => e.into(),
    }
}
