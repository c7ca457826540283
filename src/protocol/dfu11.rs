//! Plain DFU 1.1 transfers: the whole-image download with manifestation, and upload.

use super::polling::PollEnd;
use super::{request, Dfu, ProtocolError, State};
use crate::progress::Level;
use crate::transport::Transport;

impl<T: Transport> Dfu<T> {
    /// A DNLOAD; a stall is explained by the device's status.
    fn dnload_explained(
        &mut self,
        block: u16,
        data: &[u8],
        during: &str,
    ) -> Result<(), ProtocolError> {
        self.out(request::DNLOAD, block, data, during)
            .map_err(|e| self.explain_stall(e, during, None))
    }

    /// Plain DFU 1.1 download of a whole image, then manifestation. Blocks are numbered from 0
    /// and wrap at 65535. Returns false if `on_block` stopped it (the device is then in
    /// dfuDNLOAD-IDLE and an ABORT returns it to dfuIDLE).
    pub fn download(
        &mut self,
        data: &[u8],
        on_block: &mut dyn FnMut(usize) -> bool,
    ) -> Result<bool, ProtocolError> {
        self.download_from(0, data, on_block)
    }

    /// [`Dfu::download`] with blocks numbered from `first` (ST's serial boot starts at 2, as
    /// DfuSe data blocks do).
    pub fn download_from(
        &mut self,
        first: u16,
        data: &[u8],
        on_block: &mut dyn FnMut(usize) -> bool,
    ) -> Result<bool, ProtocolError> {
        if !self.info().functional.can_download() {
            return Err(ProtocolError::Unsupported(
                "download (bitCanDnload is clear)",
            ));
        }
        self.abandoned_erase = None;
        let xfer = self.checked_transfer_size()?;
        let mut done = 0usize;
        let mut block: u16 = first;
        for chunk in data.chunks(xfer) {
            let during = format!(
                "download of block {block} ({} bytes at offset {done})",
                chunk.len()
            );
            self.dnload_explained(block, chunk, &during)?;
            // The first block may wait for the whole firmware area to be erased (Zephyr's DFU
            // class erases its slot then, reporting its usual 8 ms poll timeout throughout).
            let deadline = if done == 0 {
                self.opts.timeouts.mass_erase
            } else {
                self.opts.timeouts.command
            };
            self.poll_until(&during, None, deadline, &[State::DnloadIdle], false)?;
            block = block.wrapping_add(1);
            done += chunk.len();
            if !on_block(done) {
                self.abort()?;
                return Ok(false);
            }
        }
        self.dnload_explained(block, &[], "end of download")?;
        let deadline = self.opts.timeouts.manifest;
        match self.poll_until(
            "manifestation",
            None,
            deadline,
            &[State::DfuIdle, State::ManifestWaitReset],
            false,
        )? {
            PollEnd::Done(r) if r.state == State::ManifestWaitReset => {
                self.note(
                    Level::Info,
                    "device waits for a USB reset to finish manifestation".into(),
                );
            }
            _ => {}
        }
        Ok(true)
    }

    /// Plain DFU 1.1 upload of at most `max` bytes, ending at the device's short read.
    pub fn upload(
        &mut self,
        max: usize,
        on_block: &mut dyn FnMut(usize) -> bool,
    ) -> Result<Vec<u8>, ProtocolError> {
        if !self.info().functional.can_upload() {
            return Err(ProtocolError::Unsupported("upload (bitCanUpload is clear)"));
        }
        let xfer = self.checked_transfer_size()?;
        let timeout = self.opts.timeouts.control;
        let mut out = Vec::with_capacity(max.min(16 << 20));
        let mut block: u16 = 0;
        let mut buf = vec![0u8; xfer];
        while out.len() < max {
            let want = xfer.min(max - out.len());
            let during = format!("upload of block {block}");
            let got = self.input(request::UPLOAD, block, &mut buf[..want], timeout, &during)?;
            out.extend_from_slice(&buf[..got]);
            if got < want {
                return Ok(out); // a short read ends the upload; the device is back in dfuIDLE
            }
            block = block.wrapping_add(1);
            if !on_block(out.len()) {
                break;
            }
        }
        self.abort()?;
        Ok(out)
    }
}
