//! Firmware images: loaded from a file of any supported format or copied from caller memory,
//! and their targets and segments.

use std::ffi::c_char;
use std::panic::{catch_unwind, AssertUnwindSafe};

use super::boundary::{free_boxed, guard, null, str_arg};
use super::codes::DFUFLASH_ERR_INVALID_ARGUMENT;
use super::last_error::{err, fail};
use crate::image::{self, Image, LoadOptions};

/// A firmware image.
pub struct dfuflash_image {
    pub(super) image: Image,
}

/// Loads a firmware file of any supported format (detected by content). For a raw binary pass
/// `has_address` and its `address`; for other formats `has_address` must be false. `alt` is the
/// alt setting for formats without targets.
#[no_mangle]
pub unsafe extern "C" fn dfuflash_image_load(
    path: *const c_char,
    address: u32,
    has_address: bool,
    alt: u8,
    out: *mut *mut dfuflash_image,
) -> i32 {
    guard(|| {
        if out.is_null() {
            return Err(null("out"));
        }
        let path = unsafe { str_arg(path, "path")? }.ok_or_else(|| null("path"))?;
        let o = LoadOptions {
            address: has_address.then_some(address),
            alt,
        };
        let (_, image) = image::load(std::path::Path::new(path), &o).map_err(|e| err(e.into()))?;
        unsafe { *out = Box::into_raw(Box::new(dfuflash_image { image })) };
        Ok(())
    })
}

/// An image of `len` bytes of caller memory (copied) at `address`, for alt setting `alt`.
#[no_mangle]
pub unsafe extern "C" fn dfuflash_image_from_memory(
    data: *const u8,
    len: usize,
    address: u32,
    alt: u8,
    out: *mut *mut dfuflash_image,
) -> i32 {
    guard(|| {
        if out.is_null() {
            return Err(null("out"));
        }
        if data.is_null() {
            return Err(null("data"));
        }
        let bytes = unsafe { std::slice::from_raw_parts(data, len) }.to_vec();
        let image = Image::single(alt, vec![crate::image::Segment::new(address, bytes)])
            .map_err(|e| err(e.into()))?;
        unsafe { *out = Box::into_raw(Box::new(dfuflash_image { image })) };
        Ok(())
    })
}

/// Targets in an image (0 for NULL).
#[no_mangle]
pub unsafe extern "C" fn dfuflash_image_target_count(img: *const dfuflash_image) -> usize {
    if img.is_null() {
        return 0;
    }
    catch_unwind(AssertUnwindSafe(|| unsafe { (*img).image.targets.len() })).unwrap_or(0)
}

/// Target `t` of an image: its alt setting and number of segments.
#[no_mangle]
pub unsafe extern "C" fn dfuflash_image_target(
    img: *const dfuflash_image,
    t: usize,
    out_alt: *mut u8,
    out_segments: *mut usize,
) -> i32 {
    guard(|| {
        if img.is_null() {
            return Err(null("img"));
        }
        if out_alt.is_null() || out_segments.is_null() {
            return Err(null("an output pointer"));
        }
        let target = unsafe { &*img }.image.targets.get(t).ok_or_else(|| {
            fail(
                DFUFLASH_ERR_INVALID_ARGUMENT,
                format!("target {t} out of range"),
            )
        })?;
        unsafe {
            *out_alt = target.alt;
            *out_segments = target.segments.len();
        }
        Ok(())
    })
}

/// Segment `s` of target `t`: its address and bytes (owned by the image).
#[no_mangle]
pub unsafe extern "C" fn dfuflash_image_segment(
    img: *const dfuflash_image,
    t: usize,
    s: usize,
    out_address: *mut u32,
    out_data: *mut *const u8,
    out_len: *mut usize,
) -> i32 {
    guard(|| {
        if img.is_null() {
            return Err(null("img"));
        }
        if out_address.is_null() || out_data.is_null() || out_len.is_null() {
            return Err(null("an output pointer"));
        }
        let seg = unsafe { &*img }
            .image
            .targets
            .get(t)
            .and_then(|x| x.segments.get(s))
            .ok_or_else(|| {
                fail(
                    DFUFLASH_ERR_INVALID_ARGUMENT,
                    format!("segment {s} of target {t} out of range"),
                )
            })?;
        unsafe {
            *out_address = seg.address;
            *out_data = seg.data.as_ptr();
            *out_len = seg.data.len();
        }
        Ok(())
    })
}

/// Frees an image; NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn dfuflash_image_free(img: *mut dfuflash_image) {
    free_boxed(img);
}
