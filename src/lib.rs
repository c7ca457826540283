//! dfuflash: a USB DFU 1.1 and ST DfuSe flasher to embed.
//!
//! Data flows one way: an [`image::Image`] and the device's memory layouts make a
//! [`plan::FlashPlan`] (every refusal happens there, before any request), a [`job`] runs it
//! through the [`protocol::Dfu`] engine, which talks to a [`transport::Transport`]: real USB,
//! or the [`sim`]ulated ST ROM bootloaders that ship in the library.
//!
//! ```
//! use dfuflash::image::Image;
//! use dfuflash::job::{flash, FlashOptions};
//! use dfuflash::progress::{CancelToken, Silent};
//! use dfuflash::protocol::{Dfu, EngineOptions};
//! use dfuflash::sim::SimDevice;
//!
//! let dev = SimDevice::new("stm32h743-revv").unwrap();
//! let mut dfu = Dfu::open(dev, 0, EngineOptions::default()).unwrap();
//! // Sectors 8 and 9: past 1 MB, where the Rev V ROM wedges.
//! let image = Image::from_binary(0x0810_0000, vec![0x42; 0x2_0100]).unwrap();
//! let report = flash(&mut dfu, &image, &FlashOptions::default(), &mut Silent, &CancelToken::new()).unwrap();
//! assert_eq!(report.workaround_sectors, [0x0810_0000, 0x0812_0000]);
//! assert_eq!(report.bytes_verified, 0x2_0100);
//! assert_eq!(dfu.transport().memory(0, 0x0812_00ff, 2).unwrap(), [0x42, 0xff]);
//! ```

#![warn(missing_docs)]

pub mod device;
pub mod error;
pub mod ffi;
pub mod flashlayout;
pub mod image;
pub mod job;
pub mod layout;
pub mod plan;
pub mod progress;
pub mod protocol;
pub mod sim;
pub mod transport;
#[cfg(feature = "usb")]
pub mod usb;

pub use error::Error;
