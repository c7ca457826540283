#![no_main]
//! The engine against a device whose every answer comes from the fuzzer: its descriptor,
//! layout, reply bytes, reply lengths and failures. A flash job never panics and ends within
//! its deadline (on the device's clock), whatever it is told.
use std::time::Duration;

use dfuflash::image::Image;
use dfuflash::job::{self, FlashOptions};
use dfuflash::progress::{CancelToken, Silent};
use dfuflash::protocol::{Dfu, EngineOptions};
use dfuflash::transport::{
    AltSetting, DeviceInfo, FunctionalDescriptor, Mode, Transport, TransportError,
};
use libfuzzer_sys::fuzz_target;

struct Told<'a> {
    info: DeviceInfo,
    input: &'a [u8],
    now: Duration,
}

impl Told<'_> {
    fn byte(&mut self) -> Option<u8> {
        let (b, rest) = self.input.split_first()?;
        self.input = rest;
        Some(*b)
    }

    /// How a request ends: most often it works; the input says when it does not.
    fn outcome(&mut self, timeout: Duration) -> Result<(), TransportError> {
        self.now += Duration::from_micros(500);
        match self.byte() {
            None => Err(TransportError::Disconnected),
            Some(b) if b < 0xf0 => Ok(()),
            Some(0xf0) => Err(TransportError::Stall),
            Some(0xf1) => {
                self.now += timeout;
                Err(TransportError::Timeout(timeout))
            }
            Some(0xf2) => Err(TransportError::Disconnected),
            Some(_) => Err(TransportError::Other("fuzz".into())),
        }
    }
}

impl Transport for Told<'_> {
    fn info(&self) -> &DeviceInfo {
        &self.info
    }
    fn control_out(&mut self, _: u8, _: u16, data: &[u8], t: Duration) -> Result<usize, TransportError> {
        self.outcome(t).map(|_| data.len())
    }
    fn control_in(&mut self, _: u8, _: u16, buf: &mut [u8], t: Duration) -> Result<usize, TransportError> {
        self.outcome(t)?;
        // A length byte, then that many reply bytes (claimed lengths may exceed the buffer).
        let n = self.byte().ok_or(TransportError::Disconnected)? as usize;
        for (i, slot) in buf.iter_mut().enumerate().take(n) {
            *slot = self.byte().unwrap_or(i as u8);
        }
        Ok(n)
    }
    fn select_alt(&mut self, _: u8) -> Result<(), TransportError> {
        Ok(())
    }
    fn reset(&mut self) -> Result<(), TransportError> {
        Ok(())
    }
    fn now(&self) -> Duration {
        self.now
    }
    fn sleep(&mut self, d: Duration) {
        self.now += d;
    }
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 8 {
        return;
    }
    let (head, rest) = data.split_at(8);
    let name_len = (head[6] as usize).min(rest.len());
    let (name, input) = rest.split_at(name_len);
    let info = DeviceInfo {
        vendor_id: if head[0] & 1 == 0 { 0x0483 } else { 0x1209 },
        product_id: 0xdf11,
        bcd_device: 0x2200,
        manufacturer: None,
        product: None,
        serial: None,
        port_path: None,
        interface: 0,
        mode: Mode::Dfu,
        alt_settings: vec![AltSetting {
            alt: 0,
            name: String::from_utf8_lossy(name).into_owned(),
        }],
        functional: FunctionalDescriptor {
            attributes: head[1],
            detach_timeout_ms: 255,
            transfer_size: u16::from_le_bytes([head[2], head[3]]),
            dfu_version: if head[0] & 2 == 0 { 0x011a } else { 0x0110 },
        },
        incomplete: None,
        driver: None,
        driver_problem: None,
        quirks: Vec::new(),
    };
    let dfuse = info.functional.is_dfuse();
    let mut opts = EngineOptions::default();
    opts.timeouts.job = Some(Duration::from_secs(60));
    let Ok(mut dfu) = Dfu::open(Told { info, input, now: Duration::ZERO }, 0, opts) else {
        return;
    };
    let at = if dfuse { 0x0800_0000 + u32::from(head[4]) * 0x100 } else { 0 };
    let image = Image::from_binary(at, vec![head[5]; 64 + head[7] as usize * 16]).unwrap();
    let mut o = FlashOptions::default();
    o.full = head[0] & 4 != 0;
    let _ = job::flash(&mut dfu, &image, &o, &mut Silent, &CancelToken::new());
    // The deadline, a second of cleanup, and one held transfer's worth of the fuzzer's clock.
    assert!(dfu.now() <= Duration::from_secs(62), "{:?}", dfu.now());
});
