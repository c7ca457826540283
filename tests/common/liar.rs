//! A device that lies: an honest simulated device underneath, and a hook that sees every
//! request and decides what the host hears. The honest device's memory and state stay the
//! truth the tests check against.

use std::time::Duration;

use dfuflash::sim::SimDevice;
use dfuflash::transport::{DeviceInfo, Transport, TransportError};

/// One request as the host made it and as the honest device answered it; the hook may change
/// the answer.
pub struct Exchange<'a> {
    /// 1-based number of the request.
    pub index: u64,
    pub request: u8,
    pub value: u16,
    /// The data the host sent (OUT requests).
    pub sent: &'a [u8],
    /// The buffer size the host offered (IN requests; 0 for OUT).
    pub asked: usize,
    /// The answer: the reply bytes (IN) or nothing (OUT), or the failure.
    pub reply: Result<Vec<u8>, TransportError>,
    /// A count to report instead of the reply's length (a transport that claims more bytes
    /// than the buffer holds).
    pub claimed: Option<usize>,
    /// The honest device's clock when the request ended.
    pub now: Duration,
}

pub type Hook = Box<dyn FnMut(&mut Exchange<'_>) + Send>;

pub struct Liar {
    pub dev: SimDevice,
    /// What the host is told at enumeration.
    pub info: DeviceInfo,
    pub hook: Hook,
    /// Runs on every host sleep, with the clock after it.
    pub on_sleep: Option<Box<dyn FnMut(Duration) + Send>>,
    /// Every sleep the host asked for, in order.
    pub slept: Vec<Duration>,
    requests: u64,
}

impl Liar {
    pub fn new(dev: SimDevice, hook: Hook) -> Self {
        let info = dev.info().clone();
        Liar {
            dev,
            info,
            hook,
            on_sleep: None,
            slept: Vec::new(),
            requests: 0,
        }
    }

    /// A liar that only lies at enumeration.
    pub fn honest(dev: SimDevice) -> Self {
        Self::new(dev, Box::new(|_| {}))
    }

    fn exchange(
        &mut self,
        request: u8,
        value: u16,
        sent: &[u8],
        asked: usize,
        reply: Result<Vec<u8>, TransportError>,
    ) -> (Result<Vec<u8>, TransportError>, Option<usize>) {
        self.requests += 1;
        let mut x = Exchange {
            index: self.requests,
            request,
            value,
            sent,
            asked,
            reply,
            claimed: None,
            now: self.dev.now(),
        };
        (self.hook)(&mut x);
        (x.reply, x.claimed)
    }
}

impl Transport for Liar {
    fn info(&self) -> &DeviceInfo {
        &self.info
    }

    fn control_out(
        &mut self,
        request: u8,
        value: u16,
        data: &[u8],
        timeout: Duration,
    ) -> Result<usize, TransportError> {
        let honest = self
            .dev
            .control_out(request, value, data, timeout)
            .map(|_| Vec::new());
        let (reply, claimed) = self.exchange(request, value, data, 0, honest);
        reply.map(|_| claimed.unwrap_or(data.len()))
    }

    fn control_in(
        &mut self,
        request: u8,
        value: u16,
        buf: &mut [u8],
        timeout: Duration,
    ) -> Result<usize, TransportError> {
        let mut mine = vec![0u8; buf.len()];
        let honest = self
            .dev
            .control_in(request, value, &mut mine, timeout)
            .map(|n| mine[..n].to_vec());
        let (reply, claimed) = self.exchange(request, value, &[], buf.len(), honest);
        let bytes = reply?;
        let n = bytes.len().min(buf.len());
        buf[..n].copy_from_slice(&bytes[..n]);
        Ok(claimed.unwrap_or(bytes.len()))
    }

    fn select_alt(&mut self, alt: u8) -> Result<(), TransportError> {
        self.dev.select_alt(alt)
    }

    fn reset(&mut self) -> Result<(), TransportError> {
        self.dev.reset()
    }

    fn now(&self) -> Duration {
        self.dev.now()
    }

    fn cut_on(&mut self, cancel: Option<dfuflash::progress::CancelToken>) {
        self.dev.cut_on(cancel);
    }

    fn reenumerate(&mut self, within: Duration) -> Result<(), TransportError> {
        self.dev.reenumerate(within)?;
        self.info = self.dev.info().clone();
        Ok(())
    }

    fn sleep(&mut self, duration: Duration) {
        self.slept.push(duration);
        self.dev.sleep(duration);
        let now = self.dev.now();
        if let Some(f) = &mut self.on_sleep {
            f(now);
        }
    }
}
