//! A bootloader with an alt setting per partition (OpenMV's, on TinyUSB's DFU class): blocks land
//! at the partition's start plus their number × wTransferSize, a write that starts on an erase
//! unit's boundary erases it first, the write runs after the first GETSTATUS has answered and
//! holds the next request, and an upload past the end is a 4-byte frame of zeros. The sources
//! are in [`super::models::openmv`].

use std::time::Duration;

use super::models::openmv::{Board, Partition};
use super::models::Dialect;
use super::SimDevice;
use crate::protocol::{State, Status, StatusReply};
use crate::transport::TransportError;

/// The frame OpenMV's bootloader answers an UPLOAD past the partition's end with.
const END_FRAME: [u8; 4] = [0; 4];

impl SimDevice {
    pub(super) fn board(&self) -> Option<&'static Board> {
        match self.model.dialect {
            Dialect::Partitioned(b) => Some(b),
            _ => None,
        }
    }

    fn partition_of(&self, alt: u8) -> Option<&'static Partition> {
        self.board()?.partitions.get(alt as usize)
    }

    /// The bytes of the partition of alt setting `alt` (a partitioned model), as they are now.
    pub fn partition(&self, alt: u8) -> Option<&[u8]> {
        let p = self.partition_of(alt)?;
        let r = self.regions.get(p.flash as usize)?;
        let from = (p.start - r.start) as usize;
        Some(&r.data[from..from + (p.limit - p.start) as usize])
    }

    /// The first GETSTATUS after a block: OK/dfuDNBUSY with no poll timeout at once; the write
    /// then runs, and the device serves no request until it is done (`cpu_busy_until`).
    pub(super) fn part_block(&mut self, block: u16, data: &[u8]) -> Vec<u8> {
        let busy = StatusReply {
            status: Status::Ok,
            poll_timeout_ms: 0,
            state: State::DnBusy,
            istring: 0,
        }
        .to_bytes()
        .to_vec();
        match self.part_write(block, data) {
            Ok(d) => {
                self.busy(d);
                self.cpu_busy_until = self.now + d;
                self.state = State::DnloadIdle;
                self.status = Status::Ok;
            }
            Err(s) => self.fail(s),
        }
        busy
    }

    fn part_write(&mut self, block: u16, data: &[u8]) -> Result<Duration, Status> {
        let p = *self.partition_of(self.alt).ok_or(Status::ErrTarget)?;
        if p.read_only {
            return Err(Status::ErrWrite);
        }
        let xfer = self.info.functional.transfer_size as u64;
        let addr = p.start as u64 + block as u64 * xfer;
        if addr + data.len() as u64 > p.limit as u64 {
            return Err(Status::ErrAddress);
        }
        let f = self.board().expect("partitioned").flashes[p.flash as usize];
        let r = &mut self.regions[p.flash as usize];
        let off = (addr - f.base as u64) as usize;
        let mut took = Duration::ZERO;
        if f.erase_unit > 0 && (addr - f.base as u64) % f.erase_unit as u64 == 0 {
            let end = (off + f.erase_unit as usize).min(r.data.len());
            r.data[off..end].fill(0xff);
            took += Duration::from_micros(f.erase_us);
        }
        let mem = &mut r.data[off..off + data.len()];
        if f.erase_unit == 0 {
            // Written in place (MRAM).
            mem.copy_from_slice(data);
        } else {
            let word = f.word as usize;
            let blank = |w: &[u8]| w.iter().all(|b| *b == 0xff);
            // ECC flash programs whole words, each blank before (the block starts on one).
            if f.ecc && !mem.chunks(word).all(blank) {
                return Err(Status::ErrWrite);
            }
            for (m, d) in mem.iter_mut().zip(data) {
                *m &= *d;
            }
        }
        let words = data.len().div_ceil(f.word as usize) as u64;
        Ok(took + Duration::from_nanos(words * f.word_ns))
    }

    /// An UPLOAD of `len` bytes of block `block`: the partition's bytes, or the 4-byte end
    /// frame when the block would pass its end.
    pub(super) fn part_upload(&mut self, block: u16, len: usize) -> Vec<u8> {
        let Some(p) = self.partition_of(self.alt).copied() else {
            return Vec::new();
        };
        let xfer = self.info.functional.transfer_size as u64;
        let addr = p.start as u64 + block as u64 * xfer;
        let out = if addr + len as u64 > p.limit as u64 {
            END_FRAME[..len.min(4)].to_vec()
        } else {
            let r = &self.regions[p.flash as usize];
            let off = (addr - r.start as u64) as usize;
            r.data[off..off + len].to_vec()
        };
        // TinyUSB's class: dfuIDLE -> dfuUPLOAD-IDLE; there, a short frame returns to dfuIDLE.
        self.state = if self.state == State::UploadIdle && out.len() < len {
            State::DfuIdle
        } else {
            State::UploadIdle
        };
        out
    }

    /// DETACH: answered, then the bootloader leaves its loop and starts the firmware.
    pub(super) fn part_detach(&mut self) -> Result<Vec<u8>, TransportError> {
        if self.board().is_none() {
            return Err(TransportError::Stall);
        }
        let start = self
            .board()
            .and_then(|b| {
                let mut writable = b.partitions.iter().filter(|p| !p.read_only);
                let firmware = b.partitions.iter().find(|p| p.name == "FIRMWARE");
                firmware.or(writable.next())
            })
            .map_or(0, |p| p.start);
        self.left_to = Some(start);
        self.disconnected = true;
        Ok(Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use crate::sim::{Op, SimDevice};
    use crate::transport::Transport;
    use std::time::Duration;

    const T: Duration = Duration::from_secs(5);

    fn status(d: &mut SimDevice) -> (u8, u32, u8) {
        let mut b = [0u8; 6];
        d.control_in(3, 0, &mut b, T).unwrap();
        (b[0], u32::from_le_bytes([b[1], b[2], b[3], 0]), b[4])
    }

    #[test]
    fn a_block_answers_busy_at_once_then_holds_the_next_request_for_the_erase() {
        let mut d = SimDevice::new("openmv-h7p").unwrap();
        d.select_alt(2).unwrap();
        d.control_out(1, 0, &[0x12; 4096], T).unwrap();
        let before = d.now();
        assert_eq!(status(&mut d), (0, 0, 4)); // OK, 0 ms, dfuDNBUSY
        let answered = d.now();
        assert!(answered - before < Duration::from_millis(2));
        assert_eq!(status(&mut d), (0, 0, 5)); // dfuDNLOAD-IDLE
                                               // Held for the 128 KB sector's erase and 128 words.
        assert!(d.now() - answered >= Duration::from_micros(1_100_000 + 128 * 130));
        let p = d.partition(2).unwrap();
        assert_eq!(&p[..4096], &[0x12; 4096][..]);
        assert!(p[4096..128 * 1024].iter().all(|b| *b == 0xff));
        // ROMFS0 is a window of SPI_FLASH.
        d.select_alt(4).unwrap();
        d.control_out(1, 1, &[0x34; 100], T).unwrap();
        status(&mut d);
        status(&mut d);
        assert_eq!(
            &d.partition(3).unwrap()[0x0180_1000..0x0180_1064],
            &[0x34; 100][..]
        );
    }

    #[test]
    fn past_the_end_is_err_address_read_only_is_err_write_and_upload_ends_with_the_frame() {
        let mut d = SimDevice::new("openmv-h7").unwrap();
        d.select_alt(1).unwrap(); // FILESYSTEM, 128 KB = 32 blocks
        d.control_out(1, 32, &[0; 4096], T).unwrap();
        assert_eq!(status(&mut d), (0, 0, 4));
        assert_eq!(status(&mut d), (8, 0, 10)); // errADDRESS, dfuERROR
        d.control_out(4, 0, &[], T).unwrap();
        d.select_alt(0).unwrap();
        d.control_out(1, 0, &[0; 16], T).unwrap();
        status(&mut d);
        assert_eq!(status(&mut d), (3, 0, 10)); // errWRITE
        d.control_out(4, 0, &[], T).unwrap();
        d.select_alt(1).unwrap();
        let mut buf = vec![0u8; 4096];
        assert_eq!(d.control_in(2, 31, &mut buf, T).unwrap(), 4096);
        assert_eq!(d.control_in(2, 32, &mut buf, T).unwrap(), 4);
        assert_eq!(&buf[..4], &[0, 0, 0, 0]);
        assert_eq!(d.state().0, crate::protocol::State::DfuIdle);
        // DETACH starts the firmware.
        d.control_out(0, 1000, &[], T).unwrap();
        assert!(d.is_disconnected());
        assert_eq!(d.left_to(), Some(0x0804_0000));
        assert!(d.transcript().iter().any(|r| r.op == Op::Detach));
    }
}
