//! The flash job: plan (every refusal before any request), then the DfuSe or DFU 1.1 flash,
//! then an optional leave.

use super::ctx::{begin, finish, run, Ctx};
use super::deadline::{self, Work};
use super::flash_dfu11::flash_dfu11;
use super::flash_dfuse::flash_dfuse;
use super::readback::ReadBack;
use super::{FlashOptions, Report};
use crate::error::Error;
use crate::image::{digest, Image};
use crate::layout::Layout;
use crate::plan::{self, FlashPlan, PlanOptions};
use crate::progress::{CancelToken, Event, Level, Observer, Phase};
use crate::protocol::{self, Dfu, LeaveOutcome};
use crate::transport::Transport;

/// Plans `image` for the device behind `dfu` without sending anything.
pub fn plan_for<T: Transport>(
    dfu: &Dfu<T>,
    image: &Image,
    opts: &FlashOptions,
) -> Result<FlashPlan, Error> {
    dfu.check_dfuse_commands()?;
    let alts = &dfu.info().alt_settings;
    // The granularity is a property of the part: take it from alt 0's layout (the flash).
    let g = alts
        .first()
        .and_then(|a| Layout::parse(&a.name).ok())
        .map(|l| protocol::write_granularity(dfu.info(), &l))
        .unwrap_or(8);
    let popts = PlanOptions {
        write_granularity: g,
        mass_erase: opts.mass_erase,
        verify: opts.verify,
        allow_option_bytes: opts.allow_option_bytes,
        allow_otp: opts.allow_otp,
    };
    Ok(plan::plan(image, alts, &popts)?)
}

/// Flashes `image`: plan (refusals before any request), erase, write, verify, optional leave.
pub fn flash<T: Transport>(
    dfu: &mut Dfu<T>,
    image: &Image,
    opts: &FlashOptions,
    obs: &mut dyn Observer,
    cancel: &CancelToken,
) -> Result<Report, Error> {
    let start = begin(dfu);
    if let Some(alt) = opts.selected_alt {
        image.check_selected_alt(alt)?;
    }
    if opts.check_suffix_ids {
        check_suffix_ids(dfu, image)?;
    }
    let plan = if dfu.is_dfuse() {
        Some(plan_for(dfu, image, opts)?)
    } else {
        None
    };
    let deadline = deadline::or_default(dfu, || match &plan {
        Some(plan) => Work::flash(plan),
        None => Work::dfu11(image.len()),
    });
    let first = if dfu.is_dfuse() && !opts.full {
        Phase::Compare
    } else {
        Phase::Erase
    };
    run(dfu, obs, cancel, deadline, first, |dfu, ctx| {
        let mut report = Report::default();
        ctx.readback = ReadBack::for_image(image);
        match &plan {
            Some(plan) => flash_dfuse(dfu, image, plan, opts, ctx, &mut report)?,
            None => flash_dfu11(dfu, image, opts, ctx, &mut report)?,
        }
        report.targets = digest::targets(image);
        report.segments = ctx.readback.records(image);
        if opts.leave {
            report.left = Some(leave_after_flash(dfu, image, opts, ctx)?);
        }
        ctx.pump(dfu);
        Ok(finish(dfu, report, start))
    })
}

/// Refuses a file whose DFU suffix names another device.
fn check_suffix_ids<T: Transport>(dfu: &Dfu<T>, image: &Image) -> Result<(), Error> {
    if let Some(s) = image.suffix {
        let i = dfu.info();
        if !s.matches(i.vendor_id, i.product_id, i.bcd_device) {
            return Err(Error::SuffixMismatch {
                file: "the image".into(),
                file_vid: s.vendor_id,
                file_pid: s.product_id,
                file_bcd: s.bcd_device,
                dev_vid: i.vendor_id,
                dev_pid: i.product_id,
                dev_bcd: i.bcd_device,
            });
        }
    }
    Ok(())
}

/// Leaves DFU mode after a successful flash: DfuSe devices jump to the leave address or the
/// image's first address.
fn leave_after_flash<T: Transport>(
    dfu: &mut Dfu<T>,
    image: &Image,
    opts: &FlashOptions,
    ctx: &mut Ctx<'_>,
) -> Result<LeaveOutcome, Error> {
    ctx.emit(&Event::PhaseStart {
        phase: Phase::Leave,
        total: 1,
    });
    let jump = opts
        .leave_address
        .or_else(|| image.start_address())
        .filter(|_| dfu.is_dfuse());
    let outcome = dfu.leave(jump)?;
    ctx.log(Level::Debug, &format!("device left DFU mode ({outcome:?})"));
    Ok(outcome)
}
