//! A range read back after writing, what it must hold, and its reading: block by block,
//! compared as it comes, the bytes found kept for the flash's record. The verify reads its
//! ranges this way, and so does the boot block's read-back.

use super::ctx::Ctx;
use crate::error::Error;
use crate::plan::TargetPlan;
use crate::progress::{Event, Phase};
use crate::protocol::Dfu;
use crate::transport::Transport;

/// A range to read back after writing.
pub(super) struct Check<'p> {
    pub(super) alt: u8,
    pub(super) address: u32,
    pub(super) len: usize,
    pub(super) expect: Expect<'p>,
    /// What the range is.
    pub(super) kind: CheckKind,
}

/// What a range read back must hold.
pub(super) enum Expect<'p> {
    /// These bytes: the image's own.
    Bytes(Vec<u8>),
    /// What this plan leaves there (its padded writes, 0xFF elsewhere), computed a block at a
    /// time: such a range is as long as a sector, whose size the device reports.
    Leaves(&'p TargetPlan),
}

impl Expect<'_> {
    /// The expected bytes of `out.len()` at `at`, inside a check that starts at `start`.
    fn fill(&self, start: u32, at: u32, out: &mut [u8]) {
        match self {
            Expect::Bytes(b) => {
                let off = (at - start) as usize;
                out.copy_from_slice(&b[off..off + out.len()]);
            }
            Expect::Leaves(t) => t.leaves(at, out),
        }
    }
}

/// Why a range is read back.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum CheckKind {
    /// The image's own bytes: the verify.
    Image,
    /// A sector erased through the Rev V recovery, at this address, outside the image.
    Recovered(u32),
    /// A sector left alone near an erased one, read again: the erase must not have reached it
    /// (see the flash's `unchanged_to_recheck`).
    Unchanged,
}

/// The first difference a read-back found, and how many bytes differed.
struct Mismatch {
    address: u32,
    expected: u8,
    found: u8,
    count: usize,
}

/// Reads `check` back and compares it, reporting progress in `phase` from `done` of `total`
/// (`progress`). False when cancelled; a difference fails; what was read is kept for the
/// record once it is found as expected.
pub(super) fn read_back<T: Transport>(
    dfu: &mut Dfu<T>,
    check: &Check<'_>,
    phase: Phase,
    progress: (u64, u64),
    ctx: &mut Ctx<'_>,
) -> Result<bool, Error> {
    let (base, total) = progress;
    let cutter = ctx.readback.cutter();
    let mut expected = Vec::new();
    let mut mismatch: Option<Mismatch> = None;
    let mut done = 0u64;
    let mut pieces = Vec::new();
    let complete = {
        let ctx2 = &mut *ctx;
        dfu.read_blocks(check.address, check.len, &mut |at, block| {
            expected.resize(block.len(), 0);
            check.expect.fill(check.address, at, &mut expected);
            for (i, (b, e)) in block.iter().zip(&expected).enumerate() {
                if b != e {
                    let m = mismatch.get_or_insert(Mismatch {
                        address: at + i as u32,
                        expected: *e,
                        found: *b,
                        count: 0,
                    });
                    m.count += 1;
                }
            }
            pieces.extend(cutter.pieces(check.alt, at, block));
            done += block.len() as u64;
            ctx2.emit(&Event::Progress {
                phase,
                done: base + done,
                total,
                address: at,
                sector: None,
            });
            !ctx2.stop()
        })
    };
    ctx.pump(dfu);
    if !complete? {
        return Ok(false);
    }
    if let Some(m) = mismatch {
        return Err(mismatch_error(check, m));
    }
    ctx.readback.commit(pieces);
    Ok(true)
}

/// A difference as an error: in a recovered sector it fails the recovery's check, anywhere
/// else the verify.
fn mismatch_error(check: &Check<'_>, m: Mismatch) -> Error {
    if let CheckKind::Recovered(sector) = check.kind {
        return Error::WorkaroundCheck {
            sector,
            address: m.address,
            found: m.found,
        };
    }
    Error::Verify {
        alt: check.alt,
        address: m.address,
        expected: m.expected,
        found: m.found,
        mismatches: m.count,
        segment: check.address,
        len: check.len,
    }
}
