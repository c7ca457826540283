//! The plain DFU 1.1 flash: one contiguous image, downloaded, manifested, uploaded to verify.

use super::ctx::{cancelled, Ctx};
use super::{FlashOptions, Report};
use crate::error::Error;
use crate::image::Image;
use crate::progress::{Event, Level, Phase};
use crate::protocol::Dfu;
use crate::transport::Transport;

pub(super) fn flash_dfu11<T: Transport>(
    dfu: &mut Dfu<T>,
    image: &Image,
    opts: &FlashOptions,
    ctx: &mut Ctx<'_>,
    report: &mut Report,
) -> Result<(), Error> {
    let [target] = image.targets.as_slice() else {
        return Err(Error::Unsupported(format!(
            "a plain DFU 1.1 device takes one image; this file has {} targets",
            image.targets.len()
        )));
    };
    let [segment] = target.segments.as_slice() else {
        return Err(Error::Unsupported(format!(
            "a plain DFU 1.1 device takes one contiguous image; this one has {} segments",
            target.segments.len()
        )));
    };
    if segment.address != 0 {
        return Err(no_addresses(segment.address));
    }
    if target.alt != dfu.alt() {
        dfu.select_alt(target.alt)?;
    }
    if opts.mass_erase {
        return Err(Error::Unsupported(
            "mass erase needs a DfuSe (ST) device".into(),
        ));
    }
    dfu.ensure_idle()?;
    let data = &segment.data;
    let total = data.len() as u64;
    ctx.emit(&Event::PhaseStart {
        phase: Phase::Write,
        total,
    });
    let complete = {
        let ctx2 = &mut *ctx;
        dfu.download(data, &mut |done| {
            ctx2.emit(&Event::Progress {
                phase: Phase::Write,
                done: done as u64,
                total,
                address: done as u32,
                sector: None,
            });
            !ctx2.stop()
        })
    };
    ctx.pump(dfu);
    if !complete? {
        return Err(cancelled(dfu, ctx, Phase::Write));
    }
    report.bytes_written = total;
    let f = dfu.info().functional;
    if opts.verify {
        if !(f.can_upload() && f.manifestation_tolerant()) {
            let why = if f.can_upload() {
                "the device is not manifestation tolerant: it cannot be read after the download"
            } else {
                "the device cannot upload (bitCanUpload is clear)"
            };
            ctx.log(Level::Warn, &format!("not verified: {why}"));
            report.unverified = Some(why.into());
            return Ok(());
        }
        ctx.emit(&Event::PhaseStart {
            phase: Phase::Verify,
            total,
        });
        let got = {
            let ctx2 = &mut *ctx;
            dfu.upload(data.len(), &mut |done| {
                ctx2.emit(&Event::Progress {
                    phase: Phase::Verify,
                    done: done as u64,
                    total,
                    address: done as u32,
                    sector: None,
                });
                !ctx2.stop()
            })?
        };
        if ctx.stop() {
            return Err(cancelled(dfu, ctx, Phase::Verify));
        }
        let diff = got
            .iter()
            .zip(data)
            .position(|(a, b)| a != b)
            .or((got.len() < data.len()).then_some(got.len()));
        if let Some(i) = diff {
            return Err(Error::Verify {
                alt: target.alt,
                address: i as u32,
                expected: data[i],
                found: got.get(i).copied().unwrap_or(0),
                mismatches: data.len() - got.iter().zip(data).filter(|(a, b)| a == b).count(),
                segment: 0,
                len: data.len(),
            });
        }
        let pieces = ctx.readback.cutter().pieces(target.alt, 0, &got);
        ctx.readback.commit(pieces);
        report.bytes_verified = total;
    }
    Ok(())
}

/// A plain DFU 1.1 device has no address space: its firmware starts at offset 0.
pub(super) fn no_addresses(address: u32) -> Error {
    Error::Unsupported(format!(
        "a plain DFU 1.1 device has no addresses: its firmware starts at 0, so nothing can go to {address:#x}; use address 0"
    ))
}
