//! The seam between the protocol engine and a device: real USB or the simulator.
//!
//! The engine asks for exactly what DFU needs: class control transfers to the DFU interface
//! with a timeout, the descriptors read at enumeration, selecting an alt setting, a USB reset,
//! and a clock. Everything above this trait is the same code for a board on a USB port and for
//! a simulated ST ROM.
//!
//! ```
//! use dfuflash::sim::SimDevice;
//! use dfuflash::transport::Transport;
//!
//! let dev = SimDevice::new("stm32h743-revv").unwrap();
//! let info = dev.info();
//! assert_eq!((info.vendor_id, info.product_id), (0x0483, 0xdf11));
//! assert_eq!(info.functional.transfer_size, 1024);
//! assert!(info.alt_settings[0].name.starts_with("@Internal Flash"));
//! ```

use std::fmt;
use std::time::Duration;

use crate::progress::CancelToken;

/// The largest control transfer the host stacks carry: Linux's usbfs refuses more than a page,
/// and WinUSB limits a control transfer to 4 KB.
pub const MAX_CONTROL_TRANSFER: usize = 4096;

/// A failed control transfer, as the USB stack reports it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// The device is gone: unplugged, reset or rebooted into its application.
    #[error("device disconnected")]
    Disconnected,
    /// The device answered the request with a STALL handshake.
    #[error("request stalled by the device")]
    Stall,
    /// The transfer did not complete within its timeout.
    #[error("transfer timed out after {0:?}")]
    Timeout(Duration),
    /// The device sent more data than the buffer holds.
    #[error("device sent more data than requested")]
    Overflow,
    /// Any other failure of the USB stack, with its own words.
    #[error("{0}")]
    Other(String),
    /// A cancel cut the transfer short while the device held it (see [`Transport::cut_on`]).
    #[error("transfer cut short by a cancel")]
    Cancelled,
}

/// Whether the interface is in application (runtime) mode or in DFU mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Interface protocol 1: the application is running; DETACH switches to DFU mode.
    Runtime,
    /// Interface protocol 2: the bootloader is running.
    Dfu,
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Mode::Runtime => "runtime",
            Mode::Dfu => "dfu",
        })
    }
}

/// The DFU functional descriptor (type 0x21).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FunctionalDescriptor {
    /// bmAttributes: bit0 canDnload, bit1 canUpload, bit2 manifestationTolerant, bit3 willDetach.
    pub attributes: u8,
    /// wDetachTimeOut in milliseconds.
    pub detach_timeout_ms: u16,
    /// wTransferSize: the largest DNLOAD/UPLOAD block the device accepts.
    pub transfer_size: u16,
    /// bcdDFUVersion: 0x0110 for DFU 1.1, 0x011A for ST's DfuSe.
    pub dfu_version: u16,
}

impl FunctionalDescriptor {
    /// Descriptor type of the DFU functional descriptor.
    pub(crate) const TYPE: u8 = 0x21;

    /// Parses the 9-byte descriptor (bLength 9, bDescriptorType 0x21). Older devices send only
    /// 7 bytes (no bcdDFUVersion); they are taken as DFU 1.0 (0x0100).
    pub fn parse(bytes: &[u8]) -> Option<Self> {
        if bytes.len() < 7 || bytes[1] != Self::TYPE || (bytes[0] as usize) < 7 {
            return None;
        }
        let dfu_version = if bytes.len() >= 9 && bytes[0] >= 9 {
            u16::from_le_bytes([bytes[7], bytes[8]])
        } else {
            0x0100
        };
        Some(Self {
            attributes: bytes[2],
            detach_timeout_ms: u16::from_le_bytes([bytes[3], bytes[4]]),
            transfer_size: u16::from_le_bytes([bytes[5], bytes[6]]),
            dfu_version,
        })
    }

    /// Finds the functional descriptor in a run of descriptors (a configuration's or an
    /// interface's extra bytes), walking them by bLength.
    pub fn find(mut extra: &[u8]) -> Option<Self> {
        while extra.len() >= 2 {
            let len = extra[0] as usize;
            if len < 2 || len > extra.len() {
                return None;
            }
            if extra[1] == Self::TYPE {
                return Self::parse(&extra[..len]);
            }
            extra = &extra[len..];
        }
        None
    }

    /// The 9 bytes of the descriptor.
    pub fn to_bytes(&self) -> [u8; 9] {
        let d = self.detach_timeout_ms.to_le_bytes();
        let t = self.transfer_size.to_le_bytes();
        let v = self.dfu_version.to_le_bytes();
        [
            9,
            Self::TYPE,
            self.attributes,
            d[0],
            d[1],
            t[0],
            t[1],
            v[0],
            v[1],
        ]
    }

    /// bitCanDnload.
    pub fn can_download(&self) -> bool {
        self.attributes & 0x01 != 0
    }
    /// bitCanUpload.
    pub fn can_upload(&self) -> bool {
        self.attributes & 0x02 != 0
    }
    /// bitManifestationTolerant.
    pub fn manifestation_tolerant(&self) -> bool {
        self.attributes & 0x04 != 0
    }
    /// bitWillDetach.
    pub fn will_detach(&self) -> bool {
        self.attributes & 0x08 != 0
    }
    /// ST's DfuSe extensions (bcdDFUVersion 0x011A).
    pub fn is_dfuse(&self) -> bool {
        self.dfu_version == 0x011a
    }
}

/// One alternate setting of the DFU interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AltSetting {
    /// bAlternateSetting.
    pub alt: u8,
    /// The iInterface string: on DfuSe devices, the memory layout.
    pub name: String,
}

impl AltSetting {
    /// Alt settings 0, 1, 2... with these names, as most devices number them.
    pub fn numbered<S: AsRef<str>>(names: &[S]) -> Vec<AltSetting> {
        names
            .iter()
            .enumerate()
            .map(|(i, n)| AltSetting {
                alt: i as u8,
                name: n.as_ref().to_string(),
            })
            .collect()
    }
}

/// What the transport learned about the device at enumeration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceInfo {
    /// idVendor.
    pub vendor_id: u16,
    /// idProduct.
    pub product_id: u16,
    /// bcdDevice.
    pub bcd_device: u16,
    /// iManufacturer string.
    pub manufacturer: Option<String>,
    /// iProduct string.
    pub product: Option<String>,
    /// iSerialNumber string (every STM32H7 ROM reports `200364500000`).
    pub serial: Option<String>,
    /// USB port path such as `1-4.2`, when the backend knows it.
    pub port_path: Option<String>,
    /// bInterfaceNumber of the DFU interface.
    pub interface: u8,
    /// Runtime or DFU mode.
    pub mode: Mode,
    /// Every alt setting of the DFU interface, in descriptor order.
    pub alt_settings: Vec<AltSetting>,
    /// The functional descriptor.
    pub functional: FunctionalDescriptor,
    /// What could not be read at enumeration (strings that did not come within the budget),
    /// when the description is incomplete.
    pub incomplete: Option<String>,
    /// The driver the system bound to the device, when the backend knows it (Windows: its
    /// service name, such as WinUSB or STTub30; "none" when it has none).
    pub driver: Option<String>,
    /// Why that driver keeps the device from being opened, with what to do (Windows binds ST
    /// ROMs to drivers libusb cannot use); None when it is usable or unknown.
    pub driver_problem: Option<String>,
    /// The host-side quirks applied to this description, each with what it does
    /// ([`crate::protocol::quirks`]); empty for most devices.
    pub quirks: Vec<String>,
}

impl DeviceInfo {
    /// The alt setting with this number.
    pub fn alt(&self, alt: u8) -> Option<&AltSetting> {
        self.alt_settings.iter().find(|a| a.alt == alt)
    }

    /// Every alt setting as `0 "@name", 1 "@name"`, for messages.
    pub fn alt_list(&self) -> String {
        self.alt_settings
            .iter()
            .map(|a| format!("{} {:?}", a.alt, a.name))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Why an alt setting of a DfuSe device is unusable, if it is: its name is not a memory
    /// layout that passes the checks of [`crate::layout`]. Plain DFU 1.1 names are free text.
    pub fn layout_problem(&self, alt: &AltSetting) -> Option<crate::layout::LayoutError> {
        if !self.functional.is_dfuse() {
            return None;
        }
        crate::layout::Layout::parse(&alt.name).err()
    }
}

/// What the engine needs from a DFU device.
///
/// Control requests are class requests to the DFU interface: the implementation fills in
/// bmRequestType (0x21 out, 0xA1 in) and wIndex (the interface number). Every transfer takes a
/// timeout and must return by then. The clock is the transport's: real time for USB, a
/// virtual clock for the simulator, so deadlines measured with [`Transport::now`] hold for both.
pub trait Transport {
    /// What was read at enumeration.
    fn info(&self) -> &DeviceInfo;

    /// Host-to-device class request with `data` as the data stage (may be empty).
    fn control_out(
        &mut self,
        request: u8,
        value: u16,
        data: &[u8],
        timeout: Duration,
    ) -> Result<usize, TransportError>;

    /// Device-to-host class request reading at most `buf.len()` bytes; returns the count read.
    fn control_in(
        &mut self,
        request: u8,
        value: u16,
        buf: &mut [u8],
        timeout: Duration,
    ) -> Result<usize, TransportError>;

    /// SET_INTERFACE to this alt setting of the DFU interface.
    fn select_alt(&mut self, alt: u8) -> Result<(), TransportError>;

    /// A USB port reset.
    fn reset(&mut self) -> Result<(), TransportError>;

    /// Monotonic time since an arbitrary origin.
    fn now(&self) -> Duration;

    /// Waits for `duration`.
    fn sleep(&mut self, duration: Duration);

    /// From now on, a transfer the device holds (an ST ROM erasing inside GETSTATUS) ends soon
    /// after `cancel` is cancelled, failing with [`TransportError::Cancelled`]; None: transfers
    /// run to their end or their timeout. The default ignores it, for a transport that cannot
    /// cut a transfer.
    fn cut_on(&mut self, cancel: Option<CancelToken>) {
        let _ = cancel;
    }

    /// Finds the same board again (same VID:PID and serial) after it left the bus on a DETACH
    /// or a hand-over to its next boot stage, within `within`, and describes it anew. The
    /// default cannot follow a board.
    fn reenumerate(&mut self, within: Duration) -> Result<(), TransportError> {
        let _ = within;
        Err(TransportError::Other(
            "this transport cannot follow a board that re-enumerates".into(),
        ))
    }
}

impl<T: Transport + ?Sized> Transport for Box<T> {
    fn info(&self) -> &DeviceInfo {
        (**self).info()
    }
    fn control_out(
        &mut self,
        request: u8,
        value: u16,
        data: &[u8],
        timeout: Duration,
    ) -> Result<usize, TransportError> {
        (**self).control_out(request, value, data, timeout)
    }
    fn control_in(
        &mut self,
        request: u8,
        value: u16,
        buf: &mut [u8],
        timeout: Duration,
    ) -> Result<usize, TransportError> {
        (**self).control_in(request, value, buf, timeout)
    }
    fn select_alt(&mut self, alt: u8) -> Result<(), TransportError> {
        (**self).select_alt(alt)
    }
    fn reset(&mut self) -> Result<(), TransportError> {
        (**self).reset()
    }
    fn now(&self) -> Duration {
        (**self).now()
    }
    fn sleep(&mut self, duration: Duration) {
        (**self).sleep(duration)
    }
    fn cut_on(&mut self, cancel: Option<CancelToken>) {
        (**self).cut_on(cancel)
    }
    fn reenumerate(&mut self, within: Duration) -> Result<(), TransportError> {
        (**self).reenumerate(within)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn functional_descriptor_round_trips_and_is_found_after_other_descriptors() {
        let fd = FunctionalDescriptor {
            attributes: 0x0b,
            detach_timeout_ms: 255,
            transfer_size: 2048,
            dfu_version: 0x011a,
        };
        let mut extra = vec![5, 0x24, 1, 2, 3]; // some other class descriptor first
        extra.extend_from_slice(&fd.to_bytes());
        assert_eq!(FunctionalDescriptor::find(&extra), Some(fd));
        assert!(fd.can_download() && fd.can_upload() && !fd.manifestation_tolerant());
        assert!(fd.will_detach() && fd.is_dfuse());
    }

    #[test]
    fn only_a_dfuse_device_s_alt_names_are_layouts_that_can_be_unusable() {
        let mut info = crate::sim::SimDevice::describe("stm32f405").unwrap();
        let bad = AltSetting {
            alt: 0,
            name: "@F/0x0/4294967295*1Bg".into(),
        };
        let reason = info.layout_problem(&bad).unwrap().to_string();
        assert!(reason.contains("the most is 1048576"), "{reason}");
        assert!(info.layout_problem(&info.alt_settings[0]).is_none());
        info.functional.dfu_version = 0x0110;
        assert!(
            info.layout_problem(&bad).is_none(),
            "DFU 1.1 names are free text"
        );
    }

    #[test]
    fn functional_descriptor_rejects_truncated_and_malformed_runs() {
        assert_eq!(FunctionalDescriptor::find(&[9, 0x21, 0, 0]), None);
        assert_eq!(FunctionalDescriptor::find(&[0, 0x21]), None);
        assert_eq!(
            FunctionalDescriptor::parse(&[9, 0x04, 0, 0, 0, 0, 0, 0, 0]),
            None
        );
        let old = FunctionalDescriptor::parse(&[7, 0x21, 1, 0, 0, 64, 0]).unwrap();
        assert_eq!((old.transfer_size, old.dfu_version), (64, 0x0100));
    }
}
