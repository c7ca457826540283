//! Jobs: flash (plan, erase, write, verify, leave), erase, read.
//!
//! A job checks for cancellation between transfers; when cancelled it returns the device to
//! dfuIDLE and fails with [`Error::Cancelled`]. If anything fails the device is never told to
//! leave DFU mode, so the user can retry.
//!
//! ```
//! use dfuflash::job::{read, erase_range};
//! use dfuflash::progress::{CancelToken, Silent};
//! use dfuflash::protocol::{Dfu, EngineOptions};
//! use dfuflash::sim::SimDevice;
//!
//! let mut dev = SimDevice::new("stm32f405").unwrap();
//! dev.poke(0, 0x0800_4000, &[1, 2, 3]);
//! let mut dfu = Dfu::open(dev, 0, EngineOptions::default()).unwrap();
//! let c = CancelToken::new();
//! assert_eq!(read(&mut dfu, 0x0800_4000, 3, &mut Silent, &c).unwrap(), [1, 2, 3]);
//! let r = erase_range(&mut dfu, 0x0800_4001, 1, &mut Silent, &c).unwrap();
//! assert_eq!(r.sectors_erased, [0x0800_4000]);
//! assert_eq!(read(&mut dfu, 0x0800_4000, 3, &mut Silent, &c).unwrap(), [0xff; 3]);
//! ```

use std::time::{Duration, Instant};

use crate::error::Error;
use crate::image::{Image, Segment};
use crate::layout::Layout;
use crate::plan::{self, FlashPlan, PlanOptions};
use crate::progress::{CancelToken, Event, Flow, Level, Observer, Phase, SectorProgress};
use crate::protocol::{self, Dfu, LeaveOutcome, ProtocolError};
use crate::transport::Transport;

/// What a flash job does.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FlashOptions {
    /// Read back and compare after writing (on by default).
    pub verify: bool,
    /// Leave DFU mode and run the firmware after a fully successful job.
    pub leave: bool,
    /// Jump address when leaving; default: the image's first address.
    pub leave_address: Option<u32>,
    /// One mass erase instead of sector erases.
    pub mass_erase: bool,
    /// Allow writing option bytes.
    pub allow_option_bytes: bool,
    /// Allow writing OTP memory.
    pub allow_otp: bool,
    /// Refuse a file whose DFU suffix names another device (on by default).
    pub check_suffix_ids: bool,
}

impl Default for FlashOptions {
    fn default() -> Self {
        Self {
            verify: true,
            leave: false,
            leave_address: None,
            mass_erase: false,
            allow_option_bytes: false,
            allow_otp: false,
            check_suffix_ids: true,
        }
    }
}

/// What a job did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Addresses of the sectors erased, in order.
    pub sectors_erased: Vec<u32>,
    /// A mass erase was done.
    pub mass_erased: bool,
    /// Bytes sent to the device (padding included).
    pub bytes_written: u64,
    /// Bytes read back and found equal.
    pub bytes_verified: u64,
    /// Sectors whose erase needed the STM32H7 Rev V recovery (each was checked).
    pub workaround_sectors: Vec<u32>,
    /// Control requests sent.
    pub requests: u64,
    /// Time on the transport's clock (simulated time on the simulator).
    pub elapsed: Duration,
    /// Wall-clock time.
    pub wall: Duration,
    /// How the device left DFU mode, if it was asked to.
    pub left: Option<LeaveOutcome>,
}

struct Ctx<'a> {
    obs: &'a mut dyn Observer,
    cancel: &'a CancelToken,
    cancelled: bool,
}

impl Ctx<'_> {
    fn emit(&mut self, ev: &Event<'_>) {
        if self.obs.on_event(ev) == Flow::Cancel {
            self.cancelled = true;
        }
    }
    fn log(&mut self, level: Level, message: &str) {
        self.emit(&Event::Log { level, message });
    }
    fn stop(&self) -> bool {
        self.cancelled || self.cancel.is_cancelled()
    }
    fn pump<T: Transport>(&mut self, dfu: &mut Dfu<T>) {
        for (level, m) in dfu.take_log() {
            self.log(level, &m);
        }
    }
}

fn cancelled<T: Transport>(dfu: &mut Dfu<T>, ctx: &mut Ctx<'_>, phase: Phase) -> Error {
    ctx.pump(dfu);
    match dfu.ensure_idle() {
        Ok(()) => Error::Cancelled { phase },
        Err(e) => Error::Protocol(e),
    }
}

fn begin<T: Transport>(dfu: &Dfu<T>) -> (u64, Duration, Instant) {
    (dfu.requests_sent(), dfu.now(), Instant::now())
}

fn finish<T: Transport>(dfu: &Dfu<T>, mut r: Report, start: (u64, Duration, Instant)) -> Report {
    r.requests = dfu.requests_sent() - start.0;
    r.elapsed = dfu.now().saturating_sub(start.1);
    r.wall = start.2.elapsed();
    r
}

fn layout_of<T: Transport>(dfu: &Dfu<T>) -> Result<Layout, Error> {
    let alt = dfu.alt();
    let name = dfu
        .info()
        .alt(alt)
        .map(|a| a.name.clone())
        .unwrap_or_default();
    Ok(Layout::parse(&name)?)
}

/// Plans `image` for the device behind `dfu` without sending anything.
pub fn plan_for<T: Transport>(
    dfu: &Dfu<T>,
    image: &Image,
    opts: &FlashOptions,
) -> Result<FlashPlan, Error> {
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
    let mut ctx = Ctx {
        obs,
        cancel,
        cancelled: false,
    };
    let mut report = Report::default();
    if let (Some(s), true) = (image.suffix, opts.check_suffix_ids) {
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
    if dfu.is_dfuse() {
        let plan = plan_for(dfu, image, opts)?;
        flash_dfuse(dfu, image, &plan, opts, &mut ctx, &mut report)?;
    } else {
        flash_dfu11(dfu, image, opts, &mut ctx, &mut report)?;
    }
    if opts.leave {
        ctx.emit(&Event::PhaseStart {
            phase: Phase::Leave,
            total: 1,
        });
        let jump = opts
            .leave_address
            .or_else(|| image.start_address())
            .filter(|_| dfu.is_dfuse());
        let outcome = dfu.leave(jump)?;
        ctx.log(Level::Info, &format!("device left DFU mode ({outcome:?})"));
        report.left = Some(outcome);
    }
    ctx.pump(dfu);
    Ok(finish(dfu, report, start))
}

fn flash_dfuse<T: Transport>(
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

fn flash_dfu11<T: Transport>(
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
            ctx.log(
                Level::Warn,
                "verify skipped: the device cannot upload after manifestation",
            );
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
        report.bytes_verified = total;
    }
    Ok(())
}

/// Erases the sectors that hold [address, address + length) on the current alt setting.
pub fn erase_range<T: Transport>(
    dfu: &mut Dfu<T>,
    address: u32,
    length: u32,
    obs: &mut dyn Observer,
    cancel: &CancelToken,
) -> Result<Report, Error> {
    let start = begin(dfu);
    if length == 0 {
        return Err(Error::InvalidArgument("erase length is 0".into()));
    }
    let layout = layout_of(dfu)?;
    let end = address as u64 + length as u64;
    let mut sectors = Vec::new();
    let mut a = address as u64;
    let alt = dfu.alt();
    while a < end {
        let s = layout
            .sector_at(a as u32)
            .ok_or_else(|| plan::PlanError::Absent {
                alt,
                address: a as u32,
                layout: layout.source.clone(),
            })?;
        if !s.perms.erasable() {
            return Err(plan::PlanError::NotErasable {
                alt,
                address: a as u32,
                layout: layout.source.clone(),
            }
            .into());
        }
        sectors.push(s);
        a = s.end();
    }
    if plan::MemoryKind::of(&layout.name) != plan::MemoryKind::Flash {
        return Err(plan::PlanError::Protected {
            alt,
            kind: "non-flash memory",
            address,
            layout: layout.source.clone(),
            how: "not supported",
        }
        .into());
    }
    let mut ctx = Ctx {
        obs,
        cancel,
        cancelled: false,
    };
    let mut report = Report::default();
    dfu.ensure_idle()?;
    let n = sectors.len();
    ctx.emit(&Event::PhaseStart {
        phase: Phase::Erase,
        total: n as u64,
    });
    for (i, s) in sectors.iter().enumerate() {
        if ctx.stop() {
            return Err(cancelled(dfu, &mut ctx, Phase::Erase));
        }
        let outcome = dfu.erase_page(s.address);
        ctx.pump(dfu);
        if outcome?.workaround {
            report.workaround_sectors.push(s.address);
            ctx.emit(&Event::Workaround { address: s.address });
        }
        report.sectors_erased.push(s.address);
        ctx.emit(&Event::Progress {
            phase: Phase::Erase,
            done: i as u64 + 1,
            total: n as u64,
            address: s.address,
            sector: Some(SectorProgress {
                index: s.index,
                k: i + 1,
                n,
            }),
        });
    }
    // A recovered erase is confirmed by reading the sector back.
    for &sector in &report.workaround_sectors {
        let s = sectors
            .iter()
            .find(|s| s.address == sector)
            .expect("erased above");
        let mut buf = vec![0u8; s.size as usize];
        dfu.read_memory(s.address, &mut buf, &mut |_| true)?;
        if let Some(i) = buf.iter().position(|b| *b != 0xff) {
            return Err(Error::WorkaroundCheck {
                sector,
                address: sector + i as u32,
                found: buf[i],
            });
        }
    }
    Ok(finish(dfu, report, start))
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
    let mut ctx = Ctx {
        obs,
        cancel,
        cancelled: false,
    };
    if ctx.stop() {
        return Err(Error::Cancelled {
            phase: Phase::Erase,
        });
    }
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
}

/// Leaves DFU mode: from dfuIDLE, DfuSe devices jump to `jump` (when given), plain DFU devices
/// are reset. The disconnect that follows is success.
pub fn leave<T: Transport>(dfu: &mut Dfu<T>, jump: Option<u32>) -> Result<Report, Error> {
    let start = begin(dfu);
    dfu.ensure_idle()?;
    let left = dfu.leave(jump)?;
    Ok(finish(
        dfu,
        Report {
            left: Some(left),
            ..Report::default()
        },
        start,
    ))
}

/// Reads `length` bytes at `address` of the current alt setting (DfuSe), or the first
/// `length` bytes of the firmware (plain DFU 1.1).
pub fn read<T: Transport>(
    dfu: &mut Dfu<T>,
    address: u32,
    length: u32,
    obs: &mut dyn Observer,
    cancel: &CancelToken,
) -> Result<Vec<u8>, Error> {
    let mut ctx = Ctx {
        obs,
        cancel,
        cancelled: false,
    };
    let total = length as u64;
    if dfu.is_dfuse() {
        let layout = layout_of(dfu)?;
        let alt = dfu.alt();
        let mut a = address as u64;
        while a < address as u64 + length as u64 {
            let s = layout
                .sector_at(a as u32)
                .ok_or_else(|| plan::PlanError::Absent {
                    alt,
                    address: a as u32,
                    layout: layout.source.clone(),
                })?;
            if !s.perms.readable() {
                return Err(plan::PlanError::NotReadable {
                    alt,
                    address: a as u32,
                    layout: layout.source.clone(),
                }
                .into());
            }
            a = s.end();
        }
    }
    dfu.ensure_idle()?;
    ctx.emit(&Event::PhaseStart {
        phase: Phase::Read,
        total,
    });
    let mut buf = vec![0u8; length as usize];
    let complete = {
        let ctx2 = &mut ctx;
        let mut progress = |done: usize| {
            ctx2.emit(&Event::Progress {
                phase: Phase::Read,
                done: done as u64,
                total,
                address: address + done as u32,
                sector: None,
            });
            !ctx2.stop()
        };
        if dfu.is_dfuse() {
            dfu.read_memory(address, &mut buf, &mut progress)?
        } else {
            buf = dfu.upload(length as usize, &mut progress)?;
            true
        }
    };
    ctx.pump(dfu);
    if !complete || ctx.stop() {
        return Err(cancelled(dfu, &mut ctx, Phase::Read));
    }
    Ok(buf)
}
