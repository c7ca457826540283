//! Real USB through rusb (libusb): the only module that touches the bus.
//!
//! Discovery finds every DFU interface (class 0xFE, subclass 1) in runtime mode (protocol 1)
//! and DFU mode (protocol 2) and reads its functional descriptor from the configuration's
//! extra bytes, then every alt setting's (libusb hands it over with the last alt setting), and
//! only as a last resort with a GET_DESCRIPTOR request. [`UsbTransport`] implements
//! [`Transport`] over an opened interface.

mod cancellable;
mod driver;
mod failure;
mod reenumerate;
mod strings;

use std::time::{Duration, Instant};

use rusb::{Context, Device, DeviceHandle, Direction, Recipient, RequestType, UsbContext};

use crate::progress::CancelToken;
use crate::protocol::quirks::{Quirk, Quirks};
use crate::transport::{
    AltSetting, DeviceInfo, FunctionalDescriptor, Mode, Transport, TransportError,
    MAX_CONTROL_TRANSFER as MAX_CONTROL,
};

/// Why a USB device cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UsbError {
    /// libusb could not start.
    #[error("cannot initialise libusb: {0}")]
    Init(String),
    /// The user may not open the device.
    #[error(
        "permission denied opening {path} ({vid:04x}:{pid:04x}); on Linux add a udev rule, e.g. \
         SUBSYSTEM==\"usb\", ATTRS{{idVendor}}==\"{vid:04x}\", ATTRS{{idProduct}}==\"{pid:04x}\", MODE=\"0666\" \
         in /etc/udev/rules.d/50-dfu.rules, then `udevadm control --reload` and replug"
    )]
    Access {
        /// Port path.
        path: String,
        /// idVendor.
        vid: u16,
        /// idProduct.
        pid: u16,
    },
    /// Another driver or program holds the interface.
    #[error("interface {interface} of {path} is busy: {holder}; close the other program or unbind the driver")]
    Busy {
        /// Port path.
        path: String,
        /// The DFU interface.
        interface: u8,
        /// Who holds it, when known.
        holder: String,
    },
    /// The device went away while being opened.
    #[error("device {path} disconnected")]
    Gone {
        /// Port path.
        path: String,
    },
    /// Any other libusb failure.
    #[error("USB error on {path}: {detail}")]
    Other {
        /// Port path.
        path: String,
        /// libusb's words.
        detail: String,
    },
    /// Windows bound the device to a driver libusb cannot open it through.
    #[error("cannot open {path} ({vid:04x}:{pid:04x}): it is {advice}")]
    Driver {
        /// Port path.
        path: String,
        /// idVendor.
        vid: u16,
        /// idProduct.
        pid: u16,
        /// Which driver, and how to install WinUSB.
        advice: String,
    },
    /// A device did not come back in DFU mode after DETACH.
    #[error("{path} did not re-enumerate in DFU mode within {waited:?} after DETACH")]
    NoReenumeration {
        /// Port path the device was on.
        path: String,
        /// How long it was waited for.
        waited: Duration,
    },
}

fn map_open(e: rusb::Error, path: &str, vid: u16, pid: u16, interface: u8) -> UsbError {
    // On Windows most failures to open come from the driver Windows bound to the device.
    #[cfg(windows)]
    if e != rusb::Error::NoDevice {
        if let Some(advice) = driver::bound_service(vid, pid)
            .and_then(|service| driver::advice(service.as_deref(), vid, pid, None))
        {
            return UsbError::Driver {
                path: path.into(),
                vid,
                pid,
                advice,
            };
        }
    }
    match e {
        rusb::Error::Access => UsbError::Access {
            path: path.into(),
            vid,
            pid,
        },
        rusb::Error::Busy => UsbError::Busy {
            path: path.into(),
            interface,
            holder: kernel_driver(path, interface)
                .unwrap_or_else(|| "another program has claimed it".into()),
        },
        rusb::Error::NoDevice => UsbError::Gone { path: path.into() },
        e => UsbError::Other {
            path: path.into(),
            detail: e.to_string(),
        },
    }
}

/// The kernel driver bound to an interface, from sysfs (Linux).
fn kernel_driver(path: &str, interface: u8) -> Option<String> {
    let link =
        std::fs::read_link(format!("/sys/bus/usb/devices/{path}:1.{interface}/driver")).ok()?;
    Some(format!(
        "kernel driver {}",
        link.file_name()?.to_string_lossy()
    ))
}

/// `bus-port.port...` as dfu-util and sysfs write it.
pub fn port_path<T: UsbContext>(d: &Device<T>) -> String {
    let ports = d.port_numbers().unwrap_or_default();
    let p: Vec<String> = ports.iter().map(|p| p.to_string()).collect();
    if p.is_empty() {
        format!("{}-0", d.bus_number())
    } else {
        format!("{}-{}", d.bus_number(), p.join("."))
    }
}

/// A DFU interface found on the bus.
pub struct Found {
    /// What it is.
    pub info: DeviceInfo,
    device: Device<Context>,
    config: u8,
}

/// The strings at `indices`, read within the device's budget (see [`strings`]); the second
/// value says what could not be read. The string at `utf8` holds UTF-8 bytes instead of
/// UTF-16LE (the GD32VF103 ROM's serial: [`Quirk::Utf8Serial`]).
fn read_strings(
    h: Option<&DeviceHandle<Context>>,
    indices: &[Option<u8>],
    utf8: Option<u8>,
) -> (Vec<Option<String>>, Option<String>) {
    let Some(h) = h else {
        return (vec![None; indices.len()], None);
    };
    let start = Instant::now();
    let mut lang = None;
    strings::read_within(
        indices,
        strings::DESCRIBE_BUDGET,
        || start.elapsed(),
        |i, timeout| {
            let l = match lang {
                Some(l) => l,
                None => {
                    let l = *h
                        .read_languages(timeout)?
                        .first()
                        .ok_or(rusb::Error::NotFound)?;
                    *lang.insert(l)
                }
            };
            if Some(i) == utf8 {
                return read_utf8_string(h, l.lang_id(), i, timeout);
            }
            h.read_string_descriptor(l, i, timeout)
        },
    )
}

/// A string descriptor whose bytes are UTF-8 (invalid sequences replaced).
fn read_utf8_string(
    h: &DeviceHandle<Context>,
    lang: u16,
    index: u8,
    timeout: Duration,
) -> rusb::Result<String> {
    const GET_DESCRIPTOR: u8 = 6;
    const STRING: u16 = 3;
    let mut buf = [0u8; 255];
    let n = h.read_control(
        rusb::request_type(Direction::In, RequestType::Standard, Recipient::Device),
        GET_DESCRIPTOR,
        (STRING << 8) | index as u16,
        lang,
        &mut buf,
        timeout,
    )?;
    // bLength, bDescriptorType, then the text; a device may claim more than it sent.
    let end = (buf[0] as usize).min(n);
    if n < 2 || end < 2 {
        return Err(rusb::Error::BadDescriptor);
    }
    Ok(String::from_utf8_lossy(&buf[2..end]).into_owned())
}

/// libusb's context and the devices on the bus: where libusb cannot start (no USB stack, as in
/// some containers), why.
fn bus() -> Result<(Context, rusb::DeviceList<Context>), UsbError> {
    let ctx = Context::new().map_err(|e| UsbError::Init(e.to_string()))?;
    let list = ctx.devices().map_err(|e| UsbError::Init(e.to_string()))?;
    Ok((ctx, list))
}

/// Why USB devices cannot be listed on this host, if they cannot: the bus alone is looked at,
/// no device is opened.
pub fn unavailable() -> Option<UsbError> {
    bus().err()
}

/// bcdDevice as the descriptor holds it.
fn bcd_device(dd: &rusb::DeviceDescriptor) -> u16 {
    let v = dd.device_version();
    ((v.major() as u16) << 8) | ((v.minor() as u16) << 4) | v.sub_minor() as u16
}

/// Every DFU interface on the bus. Devices that cannot be opened are listed without strings.
pub fn discover() -> Result<Vec<Found>, UsbError> {
    let (_ctx, list) = bus()?;
    let mut out = Vec::new();
    for device in list.iter() {
        let Ok(dd) = device.device_descriptor() else {
            continue;
        };
        let Ok(config) = device
            .active_config_descriptor()
            .or_else(|_| device.config_descriptor(0))
        else {
            continue;
        };
        // Per DFU interface: its number, mode, alt settings and their name string indices.
        type Candidate = (u8, Mode, Vec<AltSetting>, Vec<Option<u8>>);
        let mut candidates: Vec<Candidate> = Vec::new();
        let mut functional = FunctionalDescriptor::find(config.extra());
        for intf in config.interfaces() {
            let mut alts = Vec::new();
            let mut name_idx = Vec::new();
            let mut mode = None;
            for d in intf.descriptors() {
                if d.class_code() != 0xfe || d.sub_class_code() != 1 {
                    continue;
                }
                mode = Some(if d.protocol_code() == 1 {
                    Mode::Runtime
                } else {
                    Mode::Dfu
                });
                if functional.is_none() {
                    functional = FunctionalDescriptor::find(d.extra());
                }
                alts.push(AltSetting {
                    alt: d.setting_number(),
                    name: String::new(),
                });
                name_idx.push(d.description_string_index());
            }
            if let Some(mode) = mode {
                candidates.push((intf.number(), mode, alts, name_idx));
            }
        }
        if candidates.is_empty() {
            continue;
        }
        let path = port_path(&device);
        let handle = device.open().ok();
        // Every string of the device (its own three, then each candidate's alt names), read
        // within one budget.
        let mut indices = vec![
            dd.manufacturer_string_index(),
            dd.product_string_index(),
            dd.serial_number_string_index(),
        ];
        for (_, _, _, name_idx) in &candidates {
            indices.extend(name_idx);
        }
        let quirks = Quirks::of(dd.vendor_id(), dd.product_id(), bcd_device(&dd));
        let utf8 = dd
            .serial_number_string_index()
            .filter(|_| quirks.has(Quirk::Utf8Serial));
        let (mut strings, incomplete) = read_strings(handle.as_ref(), &indices, utf8);
        let mut names = strings.split_off(3).into_iter();
        let driver = bound_driver(dd.vendor_id(), dd.product_id());
        for (interface, mode, mut alts, _) in candidates {
            for a in alts.iter_mut() {
                a.name = names.next().flatten().unwrap_or_default();
            }
            let functional =
                functional.or_else(|| handle.as_ref().and_then(|h| get_functional(h, interface)));
            let Some(functional) = functional else {
                continue;
            };
            let info = DeviceInfo {
                vendor_id: dd.vendor_id(),
                product_id: dd.product_id(),
                bcd_device: bcd_device(&dd),
                manufacturer: strings[0].clone(),
                product: strings[1].clone(),
                serial: strings[2].clone(),
                port_path: Some(path.clone()),
                interface,
                mode,
                alt_settings: alts,
                functional,
                incomplete: incomplete.clone(),
                driver: driver.clone(),
                driver_problem: driver.as_deref().and_then(|d| {
                    let service = (d != "none").then_some(d);
                    driver::advice(
                        service,
                        dd.vendor_id(),
                        dd.product_id(),
                        strings[1].as_deref(),
                    )
                }),
                quirks: Vec::new(),
            };
            out.push(Found {
                info,
                device: device.clone(),
                config: config.number(),
            });
        }
    }
    Ok(out)
}

/// The driver Windows bound to the device (its service name; "none" when it has none).
#[cfg(windows)]
fn bound_driver(vid: u16, pid: u16) -> Option<String> {
    driver::bound_service(vid, pid).map(|s| s.unwrap_or_else(|| "none".into()))
}

#[cfg(not(windows))]
fn bound_driver(_: u16, _: u16) -> Option<String> {
    None
}

/// GET_DESCRIPTOR for the functional descriptor, with a short timeout: some ROMs never answer.
fn get_functional(h: &DeviceHandle<Context>, interface: u8) -> Option<FunctionalDescriptor> {
    let mut buf = [0u8; 9];
    let rt = rusb::request_type(Direction::In, RequestType::Standard, Recipient::Interface);
    let n = h
        .read_control(
            rt,
            6,
            0x2100,
            interface as u16,
            &mut buf,
            Duration::from_millis(300),
        )
        .ok()?;
    FunctionalDescriptor::parse(&buf[..n])
}

/// An opened DFU interface.
pub struct UsbTransport {
    handle: DeviceHandle<Context>,
    info: DeviceInfo,
    start: Instant,
    // While a job runs: its cancel, which cuts the DFU requests short (see `cancellable`).
    cut: Option<CancelToken>,
}

impl Found {
    /// Opens the device and claims its DFU interface.
    pub fn open(&self) -> Result<UsbTransport, UsbError> {
        let i = &self.info;
        let path = i.port_path.clone().unwrap_or_default();
        let err = |e| map_open(e, &path, i.vendor_id, i.product_id, i.interface);
        let handle = self.device.open().map_err(err)?;
        let _ = handle.set_auto_detach_kernel_driver(true);
        if handle.active_configuration().map_err(err)? != self.config {
            handle.set_active_configuration(self.config).map_err(err)?;
        }
        handle.claim_interface(i.interface).map_err(err)?;
        Ok(UsbTransport {
            handle,
            info: self.info.clone(),
            start: Instant::now(),
            cut: None,
        })
    }
}

impl UsbTransport {
    /// A DFU class request through libusb's asynchronous API, which `cancel` cuts short.
    fn cuttable(
        &self,
        request_type: u8,
        request: u8,
        value: u16,
        data: &mut [u8],
        timeout: Duration,
        cancel: &CancelToken,
    ) -> Result<usize, TransportError> {
        let setup = cancellable::Setup {
            request_type,
            request,
            value,
            index: self.info.interface as u16,
        };
        match cancellable::control(&self.handle, &setup, data, timeout, cancel) {
            cancellable::Ended::Done(n) => Ok(n),
            cancellable::Ended::Cut => Err(TransportError::Cancelled),
            cancellable::Ended::Failed(e) => Err(self.classify(e, timeout)),
        }
    }

    /// Names a failed transfer, asking the device whether it is still there first (see
    /// [`failure`]).
    fn classify(&self, e: rusb::Error, timeout: Duration) -> TransportError {
        let rt = rusb::request_type(Direction::In, RequestType::Standard, Recipient::Device);
        failure::classify(
            e,
            timeout,
            || {
                let mut status = [0u8; 2];
                self.handle
                    .read_control(rt, 0, 0, 0, &mut status, Duration::from_millis(200))
                    .map(|_| ())
            },
            std::thread::sleep,
        )
    }
}

impl Transport for UsbTransport {
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
        if data.len() > MAX_CONTROL {
            return Err(TransportError::Other(format!(
                "{} bytes exceed the {MAX_CONTROL}-byte control transfer limit",
                data.len()
            )));
        }
        let rt = rusb::request_type(Direction::Out, RequestType::Class, Recipient::Interface);
        if let Some(cancel) = &self.cut {
            let mut bytes = data.to_vec();
            return self.cuttable(rt, request, value, &mut bytes, timeout, cancel);
        }
        self.handle
            .write_control(
                rt,
                request,
                value,
                self.info.interface as u16,
                data,
                timeout,
            )
            .map_err(|e| self.classify(e, timeout))
    }

    fn control_in(
        &mut self,
        request: u8,
        value: u16,
        buf: &mut [u8],
        timeout: Duration,
    ) -> Result<usize, TransportError> {
        let n = buf.len().min(MAX_CONTROL);
        let rt = rusb::request_type(Direction::In, RequestType::Class, Recipient::Interface);
        if let Some(cancel) = &self.cut {
            return self.cuttable(rt, request, value, &mut buf[..n], timeout, cancel);
        }
        self.handle
            .read_control(
                rt,
                request,
                value,
                self.info.interface as u16,
                &mut buf[..n],
                timeout,
            )
            .map_err(|e| self.classify(e, timeout))
    }

    fn select_alt(&mut self, alt: u8) -> Result<(), TransportError> {
        self.handle
            .set_alternate_setting(self.info.interface, alt)
            .map_err(|e| failure::as_transfer_error(e, Duration::ZERO))
    }

    fn reset(&mut self) -> Result<(), TransportError> {
        match self.handle.reset() {
            Ok(()) | Err(rusb::Error::NotFound) | Err(rusb::Error::NoDevice) => Ok(()),
            Err(e) => Err(failure::as_transfer_error(e, Duration::ZERO)),
        }
    }

    fn now(&self) -> Duration {
        self.start.elapsed()
    }

    fn sleep(&mut self, duration: Duration) {
        std::thread::sleep(duration);
    }

    fn cut_on(&mut self, cancel: Option<CancelToken>) {
        self.cut = cancel;
    }

    fn reenumerate(&mut self, within: Duration) -> Result<(), TransportError> {
        self.follow(within)
    }
}

/// Switches a runtime-mode device to DFU mode: DETACH, a USB reset unless the device detaches
/// by itself (bitWillDetach), then waits (up to `deadline`) for a DFU-mode interface on the same
/// port path.
pub fn detach(found: &Found, deadline: Duration) -> Result<Found, crate::Error> {
    let path = found.info.port_path.clone().unwrap_or_default();
    let mut t = found.open()?;
    let ms = found.info.functional.detach_timeout_ms.max(1);
    let rt = rusb::request_type(Direction::Out, RequestType::Class, Recipient::Interface);
    // The device may disconnect at once: a failed DETACH is judged by what re-enumerates.
    let _ = t.handle.write_control(
        rt,
        crate::protocol::request::DETACH,
        ms,
        found.info.interface as u16,
        &[],
        Duration::from_millis(1000),
    );
    if !found.info.functional.will_detach() {
        let _ = t.reset();
    }
    drop(t);
    wait_for(deadline, |f| {
        f.info.mode == Mode::Dfu && f.info.port_path.as_deref() == Some(&path)
    })?
    .ok_or_else(|| {
        UsbError::NoReenumeration {
            path,
            waited: deadline,
        }
        .into()
    })
}

/// Polls the bus until `matches` finds a device or the deadline passes.
pub fn wait_for(
    deadline: Duration,
    matches: impl Fn(&Found) -> bool,
) -> Result<Option<Found>, UsbError> {
    wait_to_pick(deadline, || false, |all| all.into_iter().find(&matches))
}

/// Like [`wait_for`], with a choice made over every device on the bus at once; it gives up
/// (None) as soon as `stop` says so, checked every 50 ms.
pub(crate) fn wait_to_pick(
    deadline: Duration,
    stop: impl Fn() -> bool,
    pick: impl Fn(Vec<Found>) -> Option<Found>,
) -> Result<Option<Found>, UsbError> {
    let start = Instant::now();
    loop {
        if let Some(f) = pick(discover()?) {
            return Ok(Some(f));
        }
        // The bus is scanned every 100 ms; the stop is looked at twice as often.
        for _ in 0..2 {
            let left = deadline.saturating_sub(start.elapsed());
            if left.is_zero() || stop() {
                return Ok(None);
            }
            std::thread::sleep(left.min(Duration::from_millis(50)));
        }
    }
}
