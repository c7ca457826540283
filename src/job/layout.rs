//! The FlashLayout job: ST's serial-boot phase protocol (ST-SERIAL-BOOT.md A4, D), row by row
//! as the device asks, across the re-enumerations of its boot stages.
//!
//! ```
//! use dfuflash::flashlayout::{header, FlashLayout};
//! use dfuflash::job::{flash_layout, LayoutOptions};
//! use dfuflash::progress::{CancelToken, Silent};
//! use dfuflash::protocol::{Dfu, EngineOptions};
//! use dfuflash::sim::SimDevice;
//!
//! let dir = std::env::temp_dir().join(format!("dfuflash-doc-layout-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! std::fs::write(dir.join("obl.stm32"), header::fsbl_v2_3(&[0x11; 64], 0x3418_0401)).unwrap();
//! std::fs::write(dir.join("loader.bin"), [0x22; 100]).unwrap();
//! std::fs::write(dir.join("app.bin"), [0x33; 3000]).unwrap();
//! let tsv = "P\t0x1\tfsbl-openbl\tBinary\tnone\t0x0\tobl.stm32\n\
//!            P\t0x3\tfsbl-extfl\tBinary\tnone\t0x0\tloader.bin\n\
//!            P\t0x4\tfsbl-app\tBinary\tnor0\t0x0000000\tapp.bin";
//! let layout = FlashLayout::parse(tsv, &dir.join("FlashLayout.tsv")).unwrap();
//! let mut dfu = Dfu::open(SimDevice::new("stm32n6").unwrap(), 0, EngineOptions::default()).unwrap();
//! let c = CancelToken::new();
//! let report = flash_layout(&mut dfu, &layout, &LayoutOptions::default(), &mut Silent, &c).unwrap();
//! assert_eq!(report.phases, [0x01, 0x00, 0x00, 0x00, 0x03, 0x03, 0x04, 0x04, 0xfe]);
//! assert_eq!(dfu.transport().n6().unwrap().nor(0, 3001)[2999..], [0x33, 0xff]);
//! ```

use std::time::Duration;

use super::ctx::{begin, cancelled, run, Ctx};
use super::deadline::{self, Work};
use crate::error::Error;
use crate::flashlayout::phase::{self, PhaseReply};
use crate::flashlayout::{header, Column, FlashLayout, FlashLayoutError, TsvError};
use crate::progress::{CancelToken, Event, Level, Observer, Phase};
use crate::protocol::{Dfu, ProtocolError};
use crate::transport::Transport;

/// What the layout job does.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LayoutOptions {
    /// How long the board may take to come back after a DETACH (snagboot waits up to 1.5 s;
    /// a hand-over to a new boot stage takes longer).
    pub reenumerate_within: Duration,
}

impl Default for LayoutOptions {
    fn default() -> Self {
        Self {
            reenumerate_within: Duration::from_secs(10),
        }
    }
}

/// One row of the TSV and what the job did with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionRecord {
    /// Id.
    pub id: u8,
    /// Name.
    pub name: String,
    /// Bytes of its binary (0 for an `E` row, which is never read).
    pub bytes: u64,
    /// CRC-32 of its binary; None for an `E` row.
    pub crc32: Option<u32>,
    /// CRC-32 of what the device returned when the partition was read back; None where the
    /// device cannot read it back, which is every partition of the STM32N6: its ROM's FSBL alt
    /// is write-only (no source shows an upload), and the OpenBootloader's UPLOAD reads only
    /// the command alt (GetPhase) and OTP; on the layout, loader and NOR alts it returns its
    /// buffer unread, and moves the phase its next DNLOAD goes to to that alt's
    /// (stm32-mw-openbl's phase-protocol `Modules/USB/openbl_usb_cmd.c`,
    /// `OPENBL_USB_ReadMemory`), so a read-back there would compare garbage and derail the
    /// protocol. A device that can read back (U-Boot's stm32prog) is not
    /// modelled yet; its read-back must fail the job on a difference.
    pub readback_crc32: Option<u32>,
    /// Times it was downloaded (0: the device never asked for it).
    pub downloads: u32,
    /// The alt setting it went to, last time.
    pub alt: Option<u8>,
}

/// What a layout job did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LayoutReport {
    /// Every row of the TSV, in file order.
    pub partitions: Vec<PartitionRecord>,
    /// Every phase the device reported, in order (the transcript of the protocol).
    pub phases: Vec<u8>,
    /// Times the board was followed across a re-enumeration.
    pub reenumerations: u32,
    /// Control requests sent.
    pub requests: u64,
    /// Time on the transport's clock.
    pub elapsed: Duration,
    /// Wall-clock time.
    pub wall: Duration,
}

/// Flashes a FlashLayout.tsv through the phase protocol: every binary is read before any
/// request; then GetPhase, the row it names to its alt, manifestation, DETACH when the device
/// asks or a stage ends, until phase 0xFE.
pub fn flash_layout<T: Transport>(
    dfu: &mut Dfu<T>,
    layout: &FlashLayout,
    opts: &LayoutOptions,
    obs: &mut dyn Observer,
    cancel: &CancelToken,
) -> Result<LayoutReport, Error> {
    let start = begin(dfu);
    // Sizes first: what cannot fit is refused before a byte is read.
    let mut sizes = Vec::new();
    for row in &layout.rows {
        sizes.push(
            row.downloads()
                .then(|| binary_size(layout, row))
                .transpose()?,
        );
    }
    layout.check_fit(&sizes, dfu.info().functional.transfer_size)?;
    let mut binaries = Vec::new();
    for row in &layout.rows {
        binaries.push(
            row.downloads()
                .then(|| read_binary(layout, row))
                .transpose()?,
        );
    }
    let layout_upload = header::layout_v1(&layout.device_text());
    let total: u64 = binaries.iter().flatten().map(|b| b.len() as u64).sum();
    // Each boot stage may take its time to come back.
    let mut deadline = deadline::or_default(dfu, || Work::dfu11(total));
    if dfu.options().timeouts.job.is_none() {
        deadline += opts.reenumerate_within * (layout.rows.len() as u32 + 1);
    }
    run(dfu, obs, cancel, deadline, Phase::Write, |dfu, ctx| {
        let mut report = LayoutReport {
            partitions: layout
                .rows
                .iter()
                .zip(&binaries)
                .map(|(r, b)| PartitionRecord {
                    id: r.id,
                    name: r.name.clone(),
                    bytes: b.as_ref().map_or(0, |b| b.len() as u64),
                    crc32: b.as_ref().map(|b| crc32fast::hash(b)),
                    // No device the phase protocol serves here reads a partition back.
                    readback_crc32: None,
                    downloads: 0,
                    alt: None,
                })
                .collect(),
            ..LayoutReport::default()
        };
        let mut walk = Walk::default();
        loop {
            if ctx.stop() {
                // Before the first request the device is as it was: nothing to bring back.
                if report.phases.is_empty() {
                    return Err(Error::Cancelled {
                        phase: Phase::Write,
                    });
                }
                return Err(cancelled(dfu, ctx, Phase::Write));
            }
            let r = get_phase(dfu)?;
            report.phases.push(r.phase);
            ctx.log(Level::Debug, &describe(&r));
            match r.phase {
                phase::END => {
                    let unsent: Vec<&str> = layout
                        .rows
                        .iter()
                        .zip(&report.partitions)
                        .filter(|(row, p)| row.opt.program && row.downloads() && p.downloads == 0)
                        .map(|(row, _)| row.name.as_str())
                        .collect();
                    if !unsent.is_empty() {
                        return Err(FlashLayoutError::EndedEarly {
                            names: unsent.join(", "),
                        }
                        .into());
                    }
                    ctx.log(Level::Info, "device reports END: layout done");
                    dfu.detach_leaving()?;
                    ctx.pump(dfu);
                    break;
                }
                phase::RESET => {
                    let text = if r.text.is_empty() {
                        "(no text)".into()
                    } else {
                        r.text
                    };
                    ctx.log(Level::Error, &format!("device error: {text}"));
                    return Err(FlashLayoutError::DeviceError { text }.into());
                }
                _ if r.asks_detach() => {
                    ctx.log(Level::Info, "device asks for DETACH");
                    follow(dfu, ctx, opts, &mut report, &mut walk)?;
                    continue;
                }
                _ => {}
            }
            if walk.last == Some(r.phase) {
                walk.repeat += 1;
            } else {
                (walk.last, walk.repeat) = (Some(r.phase), 1);
            }
            let row = layout.rows.iter().position(|row| row.id == r.phase);
            let name = row.map_or("FlashLayout", |i| layout.rows[i].name.as_str());
            // The OpenBootloader reports each phase twice: the second read is its "start".
            match walk.repeat {
                1 => {}
                2 => continue,
                count => {
                    return Err(FlashLayoutError::PhaseLoop {
                        phase: r.phase,
                        count,
                        name: name.into(),
                    }
                    .into())
                }
            }
            let data: &[u8] = match row {
                Some(i) => binaries[i]
                    .as_deref()
                    .ok_or_else(|| FlashLayoutError::PhaseEmpty {
                        phase: r.phase,
                        name: name.into(),
                    })?,
                None if r.phase == phase::LAYOUT => &layout_upload,
                None => {
                    return Err(FlashLayoutError::PhaseNotInLayout {
                        phase: r.phase,
                        file: layout.path.display().to_string(),
                    }
                    .into())
                }
            };
            let Some(alt) = phase::alt_for(&dfu.info().alt_settings, r.phase) else {
                // A stage that was sent its part and asks for one it cannot take has ended.
                if walk.sent && walk.stage_ended != Some(r.phase) {
                    ctx.log(
                        Level::Info,
                        &format!("no alt for phase {:#04x}: next boot stage", r.phase),
                    );
                    follow(dfu, ctx, opts, &mut report, &mut walk)?;
                    walk.stage_ended = Some(r.phase);
                    continue;
                }
                return Err(no_alt(dfu, r.phase).into());
            };
            if let Err(e) = download(dfu, ctx, &r, name, alt, data) {
                let line = row.map_or(String::new(), |i| format!(", line {}", layout.rows[i].line));
                let what = format!(
                    "{name} (phase {:#04x}{line}, {} bytes)",
                    r.phase,
                    data.len()
                );
                ctx.log(Level::Error, &format!("partition {what} failed: {e}"));
                return Err(e);
            }
            walk.sent = true;
            if let Some(p) = row.map(|i| &mut report.partitions[i]) {
                p.downloads += 1;
                p.alt = Some(alt);
            }
        }
        ctx.pump(dfu);
        let f = super::ctx::finish(dfu, super::Report::default(), start);
        (report.requests, report.elapsed, report.wall) = (f.requests, f.elapsed, f.wall);
        Ok(report)
    })
}

/// Where the walk through the phases stands.
#[derive(Default)]
struct Walk {
    last: Option<u8>,
    repeat: u32,
    /// Something was downloaded since the board last enumerated.
    sent: bool,
    /// The phase a stage change was taken for (once per phase).
    stage_ended: Option<u8>,
}

/// An I/O failure of a row's binary, named by the TSV's line and column as a field is.
fn unreadable(layout: &FlashLayout, row: &crate::flashlayout::Row, detail: String) -> Error {
    let file = format!(
        "{}:{}: column {}",
        layout.path.display(),
        row.line,
        Column::Binary
    );
    FlashLayoutError::Tsv(TsvError::Io {
        file,
        detail: format!("cannot read {}: {detail}", row.binary.display()),
    })
    .into()
}

fn binary_size(layout: &FlashLayout, row: &crate::flashlayout::Row) -> Result<u64, Error> {
    let meta =
        std::fs::metadata(&row.binary).map_err(|e| unreadable(layout, row, e.to_string()))?;
    // A device or a pipe would be read without end.
    if !meta.is_file() {
        return Err(unreadable(layout, row, "not a regular file".into()));
    }
    Ok(meta.len())
}

fn read_binary(layout: &FlashLayout, row: &crate::flashlayout::Row) -> Result<Vec<u8>, Error> {
    std::fs::read(&row.binary).map_err(|e| unreadable(layout, row, e.to_string()))
}

fn describe(r: &PhaseReply) -> String {
    let addr = r
        .address
        .map_or("undefined".into(), |a| format!("{a:#010x}"));
    format!(
        "GetPhase: phase {:#04x}, address {addr}, offset {:#x}",
        r.phase, r.offset
    )
}

fn no_alt<T: Transport>(dfu: &Dfu<T>, phase: u8) -> FlashLayoutError {
    let alts = dfu.info().alt_list();
    FlashLayoutError::NoAltForPhase { phase, alts }
}

/// GetPhase: SET_INTERFACE to the command alt, UPLOAD 512, GETSTATUS, then ABORT (the
/// OpenBootloader stays in dfuUPLOAD-IDLE and refuses a DNLOAD there). Only the first nine
/// bytes are trusted (and the tenth where TF-A defines it).
fn get_phase<T: Transport>(dfu: &mut Dfu<T>) -> Result<PhaseReply, Error> {
    let cmd = phase::alt_for(&dfu.info().alt_settings, phase::CMD)
        .ok_or_else(|| no_alt(dfu, phase::CMD))?;
    dfu.select_alt(cmd)?;
    let bytes = dfu.upload_block(0, 512, "GetPhase")?;
    let st = dfu.get_status()?;
    if st.status != crate::protocol::Status::Ok {
        return Err(ProtocolError::DeviceStatus {
            during: "GetPhase".into(),
            address: None,
            status: st.status,
            state: st.state,
        }
        .into());
    }
    dfu.abort()?;
    Ok(PhaseReply::parse(&bytes).ok_or(FlashLayoutError::MalformedPhase { len: bytes.len() })?)
}

/// DETACH, then find the same board again.
fn follow<T: Transport>(
    dfu: &mut Dfu<T>,
    ctx: &mut Ctx<'_>,
    opts: &LayoutOptions,
    report: &mut LayoutReport,
    walk: &mut Walk,
) -> Result<(), Error> {
    let before = dfu.info().clone();
    dfu.detach_leaving()?;
    ctx.pump(dfu);
    dfu.reenumerate(opts.reenumerate_within)
        .map_err(|e| match e {
            ProtocolError::Transport { source, .. } => FlashLayoutError::Reenumeration {
                detail: source.to_string(),
            }
            .into(),
            e => Error::from(e),
        })?;
    let after = dfu.info();
    // The transport found it where the board was; a boot stage may name itself anew (ST's
    // sources leave open whether the OpenBootloader keeps the ROM's ids and serial).
    if (after.vendor_id, after.product_id, &after.serial)
        != (before.vendor_id, before.product_id, &before.serial)
    {
        ctx.log(
            Level::Info,
            &format!(
                "{:04x}:{:04x} serial {:?} came back as {:04x}:{:04x} serial {:?}",
                before.vendor_id,
                before.product_id,
                before.serial,
                after.vendor_id,
                after.product_id,
                after.serial
            ),
        );
    }
    report.reenumerations += 1;
    let alts: Vec<_> = after.alt_settings.iter().map(|a| a.name.as_str()).collect();
    ctx.log(
        Level::Info,
        &format!("board re-enumerated with alts {}", alts.join(", ")),
    );
    (walk.last, walk.repeat, walk.sent) = (None, 0, false);
    Ok(())
}

/// One partition: DNLOAD blocks from wValue 2 (snagboot: 0 and 1 are reserved), each polled to
/// dfuDNLOAD-IDLE, then the zero-length DNLOAD and its manifestation.
fn download<T: Transport>(
    dfu: &mut Dfu<T>,
    ctx: &mut Ctx<'_>,
    r: &PhaseReply,
    name: &str,
    alt: u8,
    data: &[u8],
) -> Result<(), Error> {
    dfu.select_alt(alt)?;
    let alt_name = dfu
        .info()
        .alt(alt)
        .map(|a| a.name.clone())
        .unwrap_or_default();
    ctx.log(
        Level::Info,
        &format!(
            "partition {name} (phase {:#04x}): {} bytes to alt {alt} {alt_name:?}",
            r.phase,
            data.len()
        ),
    );
    let total = data.len() as u64;
    ctx.emit(&Event::PhaseStart {
        phase: Phase::Write,
        total,
    });
    let base = r.address.unwrap_or(0);
    let done = dfu.download_from(2, data, &mut |n| {
        ctx.emit(&Event::Progress {
            phase: Phase::Write,
            done: n as u64,
            total,
            address: base.wrapping_add(n as u32),
            sector: None,
        });
        !ctx.stop()
    })?;
    ctx.pump(dfu);
    if !done {
        return Err(cancelled(dfu, ctx, Phase::Write));
    }
    Ok(())
}
