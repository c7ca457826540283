//! The C ABI: the only `extern "C"` code. Every function runs inside a panic boundary,
//! checks every pointer, writes outputs only on success, and returns a status code; the
//! detailed message of the last failure on the calling thread is [`dfuflash_last_error`].
//! `include/dfuflash.h` is generated from this module by cbindgen.
//!
//! One file per C object, each a thin layer over the Rust API: `device_list`, `device`,
//! `image`, `options`, the `operations` on a device and their `report`, and `layout` (a
//! FlashLayout.tsv and its report). `callbacks` turns the
//! jobs' events into calls of the caller's functions; `boundary` (panics, pointer checks) and
//! `last_error` are the plumbing every function runs through; `codes` maps Rust errors to the
//! stable numbers; `api` is the table for hosts that load the library at run time.
//!
//! The convention (wasmtime's c-api): every function that takes a pointer is `unsafe extern
//! "C"`. In C the word changes nothing; in Rust it says the truth, that the caller vouches for
//! the pointers (valid, of the right type, the lifetimes of the header), which a plain
//! `extern "C" fn` taking raw pointers would hide (clippy's not_unsafe_ptr_arg_deref). Each
//! one still checks for NULL, and device handles are looked up, never dereferenced.
//!
//! cbindgen writes items in the order it meets them, module by module in the order below, so
//! this order is the header's: a new module goes before `codes`.
#![allow(non_camel_case_types)]
#![allow(clippy::missing_safety_doc)]

// Each module on its own line: rustfmt keeps the order of separate groups.
mod version;

mod callbacks;

mod boundary;

mod sized;

mod handles;

mod session;

mod last_error;

mod describe;

mod device_list;

mod device;

mod image;

mod options;

mod operations;

mod report;

mod layout;

mod api;

mod codes;

pub use api::*;
pub use callbacks::*;
pub use codes::*;
pub use describe::*;
pub use device::*;
pub use device_list::*;
pub use image::*;
pub use last_error::*;
pub use layout::*;
pub use operations::*;
pub use options::*;
pub use report::*;
pub use version::*;
