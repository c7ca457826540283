//! The gadget itself: raw_gadget's ioctls, the descriptors, and ep0 served by the simulator.

use std::ffi::CString;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use dfuflash::sim::SimDevice;
use dfuflash::transport::{Transport, TransportError};

const RAW_INIT: libc::c_ulong = 0x4101_5500;
const RAW_RUN: libc::c_ulong = 0x5501;
const RAW_EVENT_FETCH: libc::c_ulong = 0x8008_5502;
const RAW_EP0_WRITE: libc::c_ulong = 0x4008_5503;
const RAW_EP0_READ: libc::c_ulong = 0xc008_5504;
const RAW_CONFIGURE: libc::c_ulong = 0x5509;
const RAW_VBUS_DRAW: libc::c_ulong = 0x4004_550a;
const RAW_EP0_STALL: libc::c_ulong = 0x550c;
const EVENT_CONTROL: u32 = 2;

static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_term(_: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
}

struct Gadget {
    fd: libc::c_int,
}

impl Gadget {
    fn open(speed: u8, udc: u32) -> std::io::Result<Self> {
        let path = CString::new("/dev/raw-gadget").unwrap();
        let fd = unsafe { libc::open(path.as_ptr(), libc::O_RDWR) };
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let g = Gadget { fd };
        let mut init = [0u8; 257];
        let device = format!("dummy_udc.{udc}");
        init[..9].copy_from_slice(b"dummy_udc");
        init[128..128 + device.len()].copy_from_slice(device.as_bytes());
        init[256] = speed;
        g.ioctl(RAW_INIT, init.as_mut_ptr() as usize)?;
        g.ioctl(RAW_RUN, 0)?;
        Ok(g)
    }

    fn ioctl(&self, req: libc::c_ulong, arg: usize) -> std::io::Result<i32> {
        let r = unsafe { libc::ioctl(self.fd, req as _, arg) };
        if r < 0 {
            Err(std::io::Error::last_os_error())
        } else {
            Ok(r)
        }
    }

    /// The next control request's setup packet; None on other events.
    fn fetch(&self) -> std::io::Result<Option<[u8; 8]>> {
        let mut ev = [0u8; 16];
        ev[4..8].copy_from_slice(&8u32.to_le_bytes());
        self.ioctl(RAW_EVENT_FETCH, ev.as_mut_ptr() as usize)?;
        let kind = u32::from_le_bytes([ev[0], ev[1], ev[2], ev[3]]);
        Ok((kind == EVENT_CONTROL).then(|| ev[8..16].try_into().unwrap()))
    }

    fn write(&self, data: &[u8]) -> std::io::Result<()> {
        let mut io = vec![0u8; 8 + data.len()];
        io[4..8].copy_from_slice(&(data.len() as u32).to_le_bytes());
        io[8..].copy_from_slice(data);
        self.ioctl(RAW_EP0_WRITE, io.as_mut_ptr() as usize)
            .map(|_| ())
    }

    fn read(&self, len: usize) -> std::io::Result<Vec<u8>> {
        let mut io = vec![0u8; 8 + len];
        io[4..8].copy_from_slice(&(len as u32).to_le_bytes());
        let n = self.ioctl(RAW_EP0_READ, io.as_mut_ptr() as usize)? as usize;
        Ok(io[8..8 + n.min(len)].to_vec())
    }

    fn stall(&self) {
        let _ = self.ioctl(RAW_EP0_STALL, 0);
    }
}

impl Drop for Gadget {
    fn drop(&mut self) {
        unsafe { libc::close(self.fd) };
    }
}

/// A string descriptor: UTF-16LE, or the bytes of the UTF-8 text for a device that sends them
/// so (the GD32VF103's serial).
fn string(s: &str, utf8: bool) -> Vec<u8> {
    if utf8 {
        let mut d = vec![(2 + s.len()) as u8, 3];
        d.extend_from_slice(s.as_bytes());
        return d;
    }
    let u: Vec<u16> = s.encode_utf16().collect();
    let mut d = vec![(2 + 2 * u.len()) as u8, 3];
    for c in u {
        d.extend_from_slice(&c.to_le_bytes());
    }
    d
}

/// Device, configuration and string descriptors of the model (runtime mode: one alt setting).
struct Descriptors {
    device: Vec<u8>,
    config: Vec<u8>,
    strings: Vec<String>,
}

fn descriptors(dev: &SimDevice, runtime: bool) -> Descriptors {
    let i = dev.info();
    let model_runtime = dev.model().runtime.filter(|_| runtime);
    let mut device = vec![18, 1, 0x00, 0x02, 0, 0, 0, 64];
    device.extend_from_slice(&i.vendor_id.to_le_bytes());
    let product = model_runtime.map_or(i.product_id, |r| r.product_id);
    device.extend_from_slice(&product.to_le_bytes());
    device.extend_from_slice(&i.bcd_device.to_le_bytes());
    device.extend_from_slice(&[1, 2, 3, 1]);
    let mut strings = vec![
        i.manufacturer.clone().unwrap_or_default(),
        i.product.clone().unwrap_or_default(),
        i.serial.clone().unwrap_or_default(),
    ];
    let mut body = Vec::new();
    let mut functional = i.functional;
    let alts: Vec<String> = if let Some(r) = model_runtime {
        functional = r.functional;
        vec![r.name.to_string()]
    } else if runtime {
        functional.attributes |= 0x08; // willDetach: the device re-enumerates by itself
        vec!["DFU runtime".to_string()]
    } else {
        i.alt_settings.iter().map(|a| a.name.clone()).collect()
    };
    for (n, name) in alts.iter().enumerate() {
        // An interface without a name has iInterface 0 (Zephyr's runtime interface).
        let i_interface = if name.is_empty() {
            0
        } else {
            strings.push(name.clone());
            strings.len() as u8 // string indexes count from 1
        };
        let protocol = if runtime { 1 } else { 2 };
        body.extend_from_slice(&[9, 4, 0, n as u8, 0, 0xfe, 1, protocol, i_interface]);
    }
    body.extend_from_slice(&functional.to_bytes()); // after the last alt setting, as ST ROMs do
    let total = (9 + body.len()) as u16;
    let mut config = vec![9, 2, total as u8, (total >> 8) as u8, 1, 1, 0, 0x80, 50];
    config.extend_from_slice(&body);
    Descriptors {
        device,
        config,
        strings,
    }
}

fn usage() -> ! {
    eprintln!(
        "usage: usb_gadget MODEL [--scale N] [--state FILE] [--runtime] [--speed full|high] \
         [--udc N]"
    );
    std::process::exit(2)
}

pub fn main() {
    let mut args = std::env::args().skip(1);
    let model = args.next().unwrap_or_else(|| usage());
    let (mut scale, mut state, mut runtime, mut speed) = (1.0f64, None::<String>, false, 2u8);
    // A model with a runtime interface starts in it, as its application would.
    runtime |= dfuflash::sim::SimDevice::model_named(&model).is_ok_and(|m| m.runtime.is_some());
    // dummy_udc.N: one of dummy_hcd's UDC/HCD pairs (its module parameter `num`).
    let mut udc = 0u32;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--scale" => {
                scale = args
                    .next()
                    .and_then(|s| s.parse().ok())
                    .unwrap_or_else(|| usage())
            }
            "--state" => state = Some(args.next().unwrap_or_else(|| usage())),
            "--runtime" => runtime = true,
            "--speed" => {
                speed = if args.next().as_deref() == Some("high") {
                    3
                } else {
                    2
                }
            }
            "--udc" => {
                // dummy_hcd makes at most 32 (MAX_NUM_UDC).
                udc = args
                    .next()
                    .and_then(|s| s.parse().ok())
                    .filter(|&n| n < 32)
                    .unwrap_or_else(|| usage())
            }
            _ => usage(),
        }
    }
    // Without SA_RESTART, so the blocking event fetch returns EINTR and the state gets saved.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_term as extern "C" fn(libc::c_int) as *const () as usize;
        libc::sigaction(libc::SIGTERM, &sa, std::ptr::null_mut());
        libc::sigaction(libc::SIGINT, &sa, std::ptr::null_mut());
    }
    let mut dev = match &state {
        Some(p) => SimDevice::with_state(&model, std::path::Path::new(p)),
        None => SimDevice::new(&model),
    }
    .unwrap_or_else(|e| {
        eprintln!("usb_gadget: {e}");
        std::process::exit(1)
    });
    dev.set_realtime(true);
    dev.set_time_scale(scale);
    // dummy_hcd carries the transfers: sleeping their modelled bus time too would count it
    // twice, and every short sleep costs a timer interrupt and two context switches.
    dev.set_real_bus(true);
    // Under TCG a 50 us sleep costs an emulated timer interrupt and takes far longer: the
    // blocks' program times are slept together once they add up to 1 ms.
    dev.set_min_sleep(Duration::from_millis(1));
    let code = loop {
        match serve(&mut dev, runtime, speed, udc, scale) {
            Ok(Next::Detached) => runtime = false, // come back in DFU mode
            Ok(Next::Exit) => break 0,
            Err(e) => {
                eprintln!("usb_gadget: {e}");
                break 1;
            }
        }
    };
    // The USB bench tells a board that left from one still in DFU mode by this line.
    if let Some(a) = dev.left_to() {
        eprintln!("usb_gadget: left DFU mode for {a:#010x}");
    }
    if let Some(p) = &state {
        if let Err(e) = dev.save_state(std::path::Path::new(p)) {
            eprintln!("usb_gadget: {e}");
        }
    }
    std::process::exit(code);
}

enum Next {
    Detached,
    Exit,
}

fn serve(
    dev: &mut SimDevice,
    runtime: bool,
    speed: u8,
    udc: u32,
    scale: f64,
) -> std::io::Result<Next> {
    let d = descriptors(dev, runtime);
    let g = Gadget::open(speed, udc)?;
    let timeout = Duration::from_secs(30);
    let started = std::time::Instant::now() - dev.now().div_f64(scale);
    loop {
        if STOP.load(Ordering::SeqCst) {
            return Ok(Next::Exit);
        }
        let setup = match g.fetch() {
            Ok(Some(s)) => s,
            Ok(None) => continue,
            Err(e) if e.raw_os_error() == Some(libc::EINTR) => continue,
            Err(e) => return Err(e),
        };
        // While the host waited, the chip went on with its background work.
        dev.catch_up(started.elapsed().mul_f64(scale));
        let (rt, req) = (setup[0], setup[1]);
        let value = u16::from_le_bytes([setup[2], setup[3]]);
        let len = u16::from_le_bytes([setup[6], setup[7]]) as usize;
        let dir_in = rt & 0x80 != 0;
        match (rt & 0x60, req) {
            (0x00, 6) => {
                // GET_DESCRIPTOR
                let reply = match value >> 8 {
                    1 => Some(d.device.clone()),
                    2 => Some(d.config.clone()),
                    3 if value & 0xff == 0 => Some(vec![4, 3, 0x09, 0x04]),
                    // String 3 is the serial.
                    3 => d
                        .strings
                        .get((value & 0xff) as usize - 1)
                        .map(|s| string(s, value & 0xff == 3 && dev.model().quirks.utf8_serial)),
                    6 => Some(vec![10, 6, 0x00, 0x02, 0, 0, 0, 64, 1, 0]),
                    // A standalone request for the DFU functional descriptor: the C5-class ROM
                    // never answers one (hosts must read it from the configuration).
                    0x21 if dev.model().quirks.answers_functional_descriptor_request => {
                        Some(dev.info().functional.to_bytes().to_vec())
                    }
                    _ => None,
                };
                match reply {
                    Some(r) => g.write(&r[..r.len().min(len)])?,
                    None => g.stall(),
                }
            }
            (0x00, 9) => {
                // SET_CONFIGURATION
                g.ioctl(RAW_CONFIGURE, 0)?;
                let draw: u32 = 50;
                g.ioctl(RAW_VBUS_DRAW, draw as usize)?;
                g.read(0)?;
            }
            (0x00, 8) => g.write(&[1])?,
            (0x00, 10) => g.write(&[0])?,
            (0x00, 11) => {
                // SET_INTERFACE
                if runtime || dev.select_alt(value as u8).is_ok() {
                    g.read(0)?;
                } else {
                    g.stall();
                }
            }
            (0x20, _) if runtime => {
                // Runtime mode: DETACH drops off the bus and comes back in DFU mode.
                if req == 0 && !dir_in {
                    g.read(0)?;
                    std::thread::sleep(Duration::from_millis(50));
                    return Ok(Next::Detached);
                } else if req == 3 && dir_in {
                    g.write(&[0, 0, 0, 0, 0, 0][..len.min(6)])?; // appIDLE
                } else {
                    g.stall();
                }
            }
            (0x20, _) if dir_in => {
                let mut buf = vec![0u8; len];
                match dev.control_in(req, value, &mut buf, timeout) {
                    Ok(n) => g.write(&buf[..n])?,
                    Err(TransportError::Disconnected) => return Ok(Next::Exit),
                    Err(_) => g.stall(),
                }
            }
            (0x20, _) => {
                // A data stage is read (and acknowledged) before the model sees it; a request
                // without data is stalled when the model refuses it.
                let data = if len > 0 { g.read(len)? } else { Vec::new() };
                match dev.control_out(req, value, &data, timeout) {
                    Ok(_) if len == 0 => {
                        g.read(0)?;
                    }
                    Ok(_) => {}
                    // A DETACH that hands over to the next boot stage (the N6's ROM to its
                    // OpenBootloader): acknowledged, then the board comes back as that stage.
                    Err(TransportError::Disconnected)
                        if dev.reenumerate(Duration::ZERO).is_ok() && !dev.is_disconnected() =>
                    {
                        if len == 0 {
                            g.read(0)?;
                        }
                        std::thread::sleep(Duration::from_millis(50));
                        return Ok(Next::Detached);
                    }
                    Err(TransportError::Disconnected) => return Ok(Next::Exit),
                    Err(_) if len == 0 => g.stall(),
                    Err(_) => {}
                }
            }
            _ => g.stall(),
        }
        if dev.is_disconnected() {
            // Left DFU mode (leave, unprotect, power loss): give the host its reply, then go.
            std::thread::sleep(Duration::from_millis(20));
            return Ok(Next::Exit);
        }
    }
}
