//! Erase jobs: a range of sectors, the whole chip (mass erase), and read unprotect.

use super::ctx::{begin, cancelled, finish, layout_of, run, sectors_covering, Ctx, Need};
use super::deadline::{self, Work};
use super::Report;
use crate::error::Error;
use crate::layout::Sector;
use crate::plan;
use crate::progress::{CancelToken, Event, Level, Observer, Phase, SectorProgress};
use crate::protocol::{Dfu, ProtocolError};
use crate::transport::Transport;

/// Erases the sectors that hold [address, address + length) on the current alt setting.
pub fn erase_range<T: Transport>(
    dfu: &mut Dfu<T>,
    address: u32,
    length: u32,
    obs: &mut dyn Observer,
    cancel: &CancelToken,
) -> Result<Report, Error> {
    let start = begin(dfu);
    let sectors = sectors_to_erase(dfu, address, length)?;
    let deadline = deadline::or_default(dfu, || Work::erase(&sectors));
    run(dfu, obs, cancel, deadline, Phase::Erase, |dfu, ctx| {
        let mut report = Report::default();
        dfu.ensure_idle()?;
        let n = sectors.len();
        ctx.emit(&Event::PhaseStart {
            phase: Phase::Erase,
            total: n as u64,
        });
        for (i, s) in sectors.iter().enumerate() {
            if ctx.stop() {
                return Err(cancelled(dfu, ctx, Phase::Erase));
            }
            erase_sector(dfu, s, i + 1, n, ctx, &mut report)?;
        }
        confirm_recovered_erases(dfu, &sectors, &report.workaround_sectors, ctx)?;
        Ok(finish(dfu, report, start))
    })
}

/// The sectors that hold [address, address + length): each must exist and be erasable, and
/// the memory must be flash. Refusals come before any request.
fn sectors_to_erase<T: Transport>(
    dfu: &Dfu<T>,
    address: u32,
    length: u32,
) -> Result<Vec<Sector>, Error> {
    if length == 0 {
        return Err(Error::InvalidArgument("erase length is 0".into()));
    }
    let layout = layout_of(dfu)?;
    let alt = dfu.alt();
    let sectors = sectors_covering(dfu, &layout, address, length, Need::Erasable)?;
    if plan::MemoryKind::of(&layout.name) != plan::MemoryKind::Flash {
        return Err(plan::PlanError::Protected {
            alt,
            kind: "non-flash memory",
            address,
            layout: layout.source.clone(),
            how: "dfuflash erases flash only",
            allowed_by: None,
        }
        .into());
    }
    Ok(sectors)
}

/// Erases sector `k` of `n` and reports it. A sector that needed the STM32H7 Rev V recovery is
/// recorded and announced: the caller must check it.
pub(super) fn erase_sector<T: Transport>(
    dfu: &mut Dfu<T>,
    s: &Sector,
    k: usize,
    n: usize,
    ctx: &mut Ctx<'_>,
    report: &mut Report,
) -> Result<(), Error> {
    let outcome = dfu.erase_page(s.address);
    ctx.pump(dfu);
    let recovered = outcome?.workaround;
    if recovered {
        report.workaround_sectors.push(s.address);
    }
    report.sectors_erased.push(s.address);
    ctx.emit(&Event::Progress {
        phase: Phase::Erase,
        done: k as u64,
        total: n as u64,
        address: s.address,
        sector: Some(SectorProgress {
            index: s.index,
            k,
            n,
        }),
    });
    // After the sector's own progress line, so a log reads erase, then its recovery.
    if recovered {
        ctx.emit(&Event::Workaround { address: s.address });
    }
    Ok(())
}

/// The warning for a sector the Rev V recovery erased that the layout does not let be read.
pub(super) fn unreadable_recovered(sector: u32) -> String {
    format!("sector {sector:#010x} was erased through the STM32H7 Rev V recovery, but its layout marks it unreadable, so the erase cannot be checked by reading it back")
}

/// A recovered erase is confirmed by reading the sector back, a block at a time: it must be
/// blank. A sector the layout marks unreadable cannot be confirmed, which the log says.
fn confirm_recovered_erases<T: Transport>(
    dfu: &mut Dfu<T>,
    sectors: &[Sector],
    recovered: &[u32],
    ctx: &mut Ctx<'_>,
) -> Result<(), Error> {
    for &sector in recovered {
        let s = sectors
            .iter()
            .find(|s| s.address == sector)
            .expect("erased above");
        if !s.perms.readable() {
            ctx.log(Level::Warn, &unreadable_recovered(sector));
            continue;
        }
        let mut dirty = None;
        let complete = dfu.read_blocks(s.address, s.size as usize, &mut |at, block| {
            dirty = block
                .iter()
                .position(|b| *b != 0xff)
                .map(|i| (at + i as u32, block[i]));
            dirty.is_none() && !ctx.stop()
        })?;
        ctx.pump(dfu);
        if !complete && dirty.is_none() {
            return Err(cancelled(dfu, ctx, Phase::Erase));
        }
        if let Some((address, found)) = dirty {
            return Err(Error::WorkaroundCheck {
                sector,
                address,
                found,
            });
        }
    }
    Ok(())
}

/// Removes read protection (DfuSe 0x92): the chip mass-erases its flash and resets, so the
/// device disconnects. Only ever run when the caller asks for it by name.
pub fn read_unprotect<T: Transport>(
    dfu: &mut Dfu<T>,
    obs: &mut dyn Observer,
) -> Result<Report, Error> {
    whole_chip(dfu, obs, &CancelToken::new(), Dfu::read_unprotect)
}

/// Mass-erases the device (DfuSe).
pub fn mass_erase<T: Transport>(
    dfu: &mut Dfu<T>,
    obs: &mut dyn Observer,
    cancel: &CancelToken,
) -> Result<Report, Error> {
    whole_chip(dfu, obs, cancel, Dfu::mass_erase)
}

/// A one-command erase of the whole chip, reported as one erase step.
fn whole_chip<T: Transport>(
    dfu: &mut Dfu<T>,
    obs: &mut dyn Observer,
    cancel: &CancelToken,
    command: fn(&mut Dfu<T>) -> Result<(), ProtocolError>,
) -> Result<Report, Error> {
    let start = begin(dfu);
    if cancel.is_cancelled() {
        return Err(Error::Cancelled {
            phase: Phase::Erase,
        });
    }
    let deadline = deadline::or_default(dfu, Work::mass_erase);
    run(dfu, obs, cancel, deadline, Phase::Erase, |dfu, ctx| {
        dfu.ensure_idle()?;
        ctx.emit(&Event::PhaseStart {
            phase: Phase::Erase,
            total: 1,
        });
        command(dfu)?;
        ctx.pump(dfu);
        ctx.emit(&Event::Progress {
            phase: Phase::Erase,
            done: 1,
            total: 1,
            address: 0,
            sector: None,
        });
        Ok(finish(
            dfu,
            Report {
                mass_erased: true,
                ..Report::default()
            },
            start,
        ))
    })
}
