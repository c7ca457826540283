//! Serves a simulator model as a real USB device through Linux's raw_gadget (the USB bench's
//! device side). Every DFU class request on ep0 is answered by the same `SimDevice` code the
//! in-process tests use, in real time (divided by `--scale`), so a host's libusb, usbfs and
//! usbcore see an STM32 ROM bootloader.
//!
//! ```text
//! usb_gadget MODEL [--scale N] [--state FILE] [--runtime] [--speed full|high] [--udc N]
//! ```
//!
//! `--udc N` plugs the board into `dummy_udc.N` (default 0), so several boards can be on the
//! bus at once, each behind its own root hub.
//!
//! `--runtime` first presents a runtime-mode DFU interface (protocol 1, willDetach); a DETACH
//! makes it drop off the bus and come back in DFU mode on the same port. The program exits
//! when the device leaves DFU mode (saving `--state`, and saying `usb_gadget: left DFU mode for
//! ADDRESS` on stderr), and on SIGTERM (also saving).
//!
//! raw_gadget is Linux's; elsewhere the program only says so.

#[cfg(target_os = "linux")]
mod linux;

#[cfg(target_os = "linux")]
fn main() {
    linux::main()
}

#[cfg(not(target_os = "linux"))]
fn main() {
    eprintln!("usb_gadget: serves a simulated board through Linux's raw_gadget; Linux only");
    std::process::exit(2);
}
