//! The firmware image model: targets (one per alt setting) holding ordered, non-overlapping
//! address/bytes segments, plus the ids of a DFU suffix when the file had one; and the readers
//! and writers of every file format, detected by content (an extension only breaks ties).
//!
//! ```
//! use dfuflash::image::{parse, Format, LoadOptions};
//!
//! let hex = b":020000041234B4\n:02000000AABB99\n:00000001FF\n";
//! let (format, img) = parse(hex, "fw.hex", &LoadOptions::default()).unwrap();
//! assert_eq!(format, Format::IntelHex);
//! assert_eq!(img.targets[0].segments[0].address, 0x1234_0000);
//! let e = parse(&[0u8; 8], "fw.bin", &LoadOptions::default()).unwrap_err();
//! assert!(e.to_string().contains("raw binary"));
//! ```
//!
//! ```
//! use dfuflash::image::{Image, Segment};
//!
//! let img = Image::from_binary(0x0804_0000, vec![1, 2, 3]).unwrap();
//! assert_eq!(img.targets[0].alt, 0);
//! assert_eq!(img.targets[0].segments[0].end(), 0x0804_0003);
//! assert!(Image::single(0, vec![Segment::new(0x10, vec![0; 8]), Segment::new(0x14, vec![0; 4])]).is_err());
//! ```

pub mod dfuse;
pub mod digest;
pub mod elf;
pub mod ihex;
pub mod srec;
pub mod suffix;

use std::fmt;
use std::path::Path;

pub use suffix::Suffix;

/// Bytes at an address.
#[derive(Clone, PartialEq, Eq)]
pub struct Segment {
    /// First address.
    pub address: u32,
    /// The bytes.
    pub data: Vec<u8>,
}

impl fmt::Debug for Segment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Segment({:#010x}, {} bytes)",
            self.address,
            self.data.len()
        )
    }
}

impl Segment {
    /// A segment.
    pub fn new(address: u32, data: Vec<u8>) -> Self {
        Self { address, data }
    }
    /// One past the last address.
    pub fn end(&self) -> u64 {
        self.address as u64 + self.data.len() as u64
    }
}

/// What goes to one alt setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The alt setting.
    pub alt: u8,
    /// A name, when the file had one.
    pub name: Option<String>,
    /// Ordered, non-overlapping, non-empty segments.
    pub segments: Vec<Segment>,
}

impl Target {
    /// Bytes in all segments.
    pub fn len(&self) -> u64 {
        self.segments.iter().map(|s| s.data.len() as u64).sum()
    }
    /// No bytes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A firmware image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    /// Targets, each for its own alt setting.
    pub targets: Vec<Target>,
    /// The DFU suffix of the file, when it had one.
    pub suffix: Option<Suffix>,
}

/// An image that cannot be built as given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ImageError {
    /// Nothing to write.
    #[error("the image holds no bytes")]
    Empty,
    /// Two segments share addresses.
    #[error("overlapping segments at {address:#010x} in target for alt setting {alt}")]
    Overlap {
        /// Alt setting of the target.
        alt: u8,
        /// First shared address.
        address: u32,
    },
    /// A segment runs past 4 GiB.
    #[error("segment at {address:#010x} of {len} bytes runs past the 32-bit address space")]
    AddressOverflow {
        /// First address.
        address: u32,
        /// Length.
        len: usize,
    },
    /// Two targets name the same alt setting.
    #[error("two targets for alt setting {alt}")]
    DuplicateAlt {
        /// The alt setting.
        alt: u8,
    },
    /// A target is for another alt setting than the caller selected.
    #[error(
        "the image is for alt setting {image_alt}, but alt setting {selected} is selected; \
         refused before any request: select alt setting {image_alt}, or make the image for alt setting {selected}"
    )]
    AltMismatch {
        /// The target's alt setting.
        image_alt: u8,
        /// The one selected.
        selected: u8,
    },
}

impl Image {
    /// Refuses an image with a target for another alt setting than `selected`, the one the
    /// caller chose explicitly (a DfuSe file names its own).
    pub fn check_selected_alt(&self, selected: u8) -> Result<(), ImageError> {
        match self.targets.iter().find(|t| t.alt != selected) {
            Some(t) => Err(ImageError::AltMismatch {
                image_alt: t.alt,
                selected,
            }),
            None => Ok(()),
        }
    }

    /// A raw binary at an address, for alt setting 0.
    pub fn from_binary(address: u32, data: Vec<u8>) -> Result<Self, ImageError> {
        Self::single(0, vec![Segment::new(address, data)])
    }

    /// One target for `alt`; segments are sorted by address and checked.
    pub fn single(alt: u8, segments: Vec<Segment>) -> Result<Self, ImageError> {
        Self::new(vec![Target {
            alt,
            name: None,
            segments,
        }])
    }

    /// Checks and normalises: segments sorted, empty segments dropped, no overlap, no overflow,
    /// at least one byte, one target per alt setting.
    pub fn new(mut targets: Vec<Target>) -> Result<Self, ImageError> {
        let mut alts = std::collections::BTreeSet::new();
        for t in &mut targets {
            if !alts.insert(t.alt) {
                return Err(ImageError::DuplicateAlt { alt: t.alt });
            }
            t.segments.retain(|s| !s.data.is_empty());
            t.segments.sort_by_key(|s| s.address);
            for s in &t.segments {
                if s.end() > 1 << 32 {
                    return Err(ImageError::AddressOverflow {
                        address: s.address,
                        len: s.data.len(),
                    });
                }
            }
            for w in t.segments.windows(2) {
                if (w[1].address as u64) < w[0].end() {
                    return Err(ImageError::Overlap {
                        alt: t.alt,
                        address: w[1].address,
                    });
                }
            }
        }
        targets.retain(|t| !t.segments.is_empty());
        if targets.is_empty() {
            return Err(ImageError::Empty);
        }
        Ok(Self {
            targets,
            suffix: None,
        })
    }

    /// Bytes in all targets.
    pub fn len(&self) -> u64 {
        self.targets.iter().map(Target::len).sum()
    }

    /// No bytes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The first address of the first target: the usual jump address.
    pub fn start_address(&self) -> Option<u32> {
        self.targets.first()?.segments.first().map(|s| s.address)
    }
}

/// A file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// ST DfuSe (UM0391).
    Dfuse,
    /// Intel HEX.
    IntelHex,
    /// Motorola S-record.
    Srec,
    /// ELF.
    Elf,
    /// Raw binary (its address comes from the caller).
    Raw,
}

impl Format {
    /// Lowercase name.
    pub fn name(self) -> &'static str {
        match self {
            Format::Dfuse => "dfuse",
            Format::IntelHex => "ihex",
            Format::Srec => "srec",
            Format::Elf => "elf",
            Format::Raw => "raw",
        }
    }
}

/// A file that cannot be read as an image. Every variant names the file and where it went
/// wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FormatError {
    /// A structure runs past the end of the file.
    #[error(
        "{file}: truncated {what} at offset {offset}: needs {needed} bytes, {available} remain"
    )]
    Truncated {
        /// The file.
        file: String,
        /// What was being read.
        what: String,
        /// Where it starts.
        offset: usize,
        /// Bytes it needs.
        needed: u64,
        /// Bytes left in the file.
        available: usize,
    },
    /// The DFU suffix CRC does not match.
    #[error("{file}: DFU suffix CRC expected {expected:#010x}, found {found:#010x} (the file is corrupt)")]
    Crc {
        /// The file.
        file: String,
        /// Computed over the file.
        expected: u32,
        /// Stored in the suffix.
        found: u32,
    },
    /// A field holds a value the format does not allow.
    #[error("{file}: {what} at offset {offset}: expected {expected}, found {found}")]
    Field {
        /// The file.
        file: String,
        /// Offset of the field.
        offset: usize,
        /// The field.
        what: &'static str,
        /// What the format wants.
        expected: String,
        /// What the file holds.
        found: String,
    },
    /// A text record is malformed (line 0: the file as a whole).
    #[error("{file}: line {line}: {detail}")]
    Line {
        /// The file.
        file: String,
        /// 1-based line number (ELF: program header or section index).
        line: usize,
        /// What is wrong.
        detail: String,
    },
    /// Two records or elements write the same address.
    #[error("{file}: overlapping segments at {address:#010x}")]
    Overlap {
        /// The file.
        file: String,
        /// First address written twice.
        address: u32,
    },
    /// Data beyond the 32-bit address space.
    #[error("{file}: data at {address:#x} lies beyond the 32-bit address space")]
    AddressRange {
        /// The file.
        file: String,
        /// The address.
        address: u64,
    },
    /// The ELF structure is invalid.
    #[error("{file}: invalid ELF file: {detail}")]
    Elf {
        /// The file.
        file: String,
        /// What the ELF reader said.
        detail: String,
    },
    /// A raw binary without an address.
    #[error("{file} is a raw binary: give the address it goes to")]
    RawNeedsAddress {
        /// The file.
        file: String,
    },
    /// An address was given for a file that carries its own addresses.
    #[error(
        "{file} is a {format} file with its own addresses; an address applies to raw binaries only"
    )]
    AddressNotAllowed {
        /// The file.
        file: String,
        /// Its format.
        format: &'static str,
    },
    /// The file holds no bytes to write (it is empty, or holds no data records).
    #[error("{file} is empty: it holds no data to write")]
    Empty {
        /// The file.
        file: String,
    },
    /// The file could not be read.
    #[error("cannot read {file}: {detail}")]
    Io {
        /// The file.
        file: String,
        /// The system's words.
        detail: String,
    },
}

/// How to read a file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LoadOptions {
    /// Address of a raw binary (an error for formats with their own addresses).
    pub address: Option<u32>,
    /// Alt setting for formats without targets (everything but DfuSe).
    pub alt: u8,
}

/// Reads and parses a file.
pub fn load(path: &Path, opts: &LoadOptions) -> Result<(Format, Image), FormatError> {
    let name = path.display().to_string();
    let io = |detail: String| FormatError::Io {
        file: name.clone(),
        detail,
    };
    // A device or a pipe (/dev/zero, a FIFO) would be read without end.
    let meta = std::fs::metadata(path).map_err(|e| io(e.to_string()))?;
    if !meta.is_file() {
        return Err(io("not a regular file".into()));
    }
    let data = std::fs::read(path).map_err(|e| io(e.to_string()))?;
    parse(&data, &name, opts)
}

/// Detects the format by content and parses it. `name` is used in errors, and its extension
/// breaks ties (a `.bin` file is raw even when its first byte is ':').
pub fn parse(data: &[u8], name: &str, opts: &LoadOptions) -> Result<(Format, Image), FormatError> {
    let ext = Path::new(name)
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase());
    let raw_ext = matches!(ext.as_deref(), Some("bin") | Some("raw"));
    if data.is_empty() {
        return Err(FormatError::Empty {
            file: name.to_string(),
        });
    }
    let (format, mut image) = if dfuse::detect(data) {
        (Format::Dfuse, dfuse::read(data, name)?)
    } else {
        let (payload, suffix) = suffix::split(data, name)?;
        let (format, mut image) = if elf::detect(payload) {
            (Format::Elf, elf::read(payload, name)?)
        } else if !raw_ext && ihex::detect(payload) {
            (Format::IntelHex, ihex::read(payload, name)?)
        } else if !raw_ext && srec::detect(payload) {
            (Format::Srec, srec::read(payload, name)?)
        } else {
            if payload.is_empty() {
                return Err(FormatError::Empty {
                    file: name.to_string(),
                });
            }
            let address = opts.address.ok_or_else(|| FormatError::RawNeedsAddress {
                file: name.to_string(),
            })?;
            let mut b = Builder::new(name, payload.len() as u64);
            b.push(address as u64, payload)?;
            (Format::Raw, b.finish()?)
        };
        image.suffix = suffix;
        (format, image)
    };
    if format != Format::Raw && opts.address.is_some() {
        return Err(FormatError::AddressNotAllowed {
            file: name.to_string(),
            format: format.name(),
        });
    }
    // Every format without alt settings of its own goes to the one the caller gave.
    if format != Format::Dfuse {
        for t in &mut image.targets {
            t.alt = opts.alt;
        }
    }
    Ok((format, image))
}

/// Collects address/bytes chunks in file order into sorted, merged, non-overlapping segments.
///
/// It holds at most `limit` bytes: a reader passes what its input can hold, so a crafted file
/// never makes it allocate beyond its own size.
pub(crate) struct Builder<'a> {
    name: &'a str,
    segments: Vec<Segment>,
    limit: u64,
    total: u64,
}

impl<'a> Builder<'a> {
    pub(crate) fn new(name: &'a str, limit: u64) -> Self {
        Self {
            name,
            segments: Vec::new(),
            limit,
            total: 0,
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.segments.is_empty()
    }

    /// Appends `bytes` at `address`.
    pub(crate) fn push(&mut self, address: u64, bytes: &[u8]) -> Result<(), FormatError> {
        if bytes.is_empty() {
            return Ok(());
        }
        self.total += bytes.len() as u64;
        if self.total > self.limit {
            return Err(FormatError::Field {
                file: self.name.to_string(),
                offset: 0,
                what: "data size",
                expected: format!("at most the {} bytes the file can hold", self.limit),
                found: format!("{} bytes (records or segments share data)", self.total),
            });
        }
        if address + bytes.len() as u64 > 1 << 32 {
            return Err(FormatError::AddressRange {
                file: self.name.to_string(),
                address: address + bytes.len() as u64 - 1,
            });
        }
        match self.segments.last_mut() {
            Some(last) if last.end() == address => last.data.extend_from_slice(bytes),
            _ => self
                .segments
                .push(Segment::new(address as u32, bytes.to_vec())),
        }
        Ok(())
    }

    pub(crate) fn finish(mut self) -> Result<Image, FormatError> {
        self.segments.sort_by_key(|s| s.address);
        let mut merged: Vec<Segment> = Vec::with_capacity(self.segments.len());
        for s in self.segments {
            match merged.last_mut() {
                Some(last) if (s.address as u64) < last.end() => {
                    return Err(FormatError::Overlap {
                        file: self.name.to_string(),
                        address: s.address,
                    });
                }
                Some(last) if s.address as u64 == last.end() => {
                    last.data.extend_from_slice(&s.data)
                }
                _ => merged.push(s),
            }
        }
        from_targets(
            vec![Target {
                alt: 0,
                name: None,
                segments: merged,
            }],
            self.name,
        )
    }
}

/// Checks targets into an image, naming the file in errors.
pub(crate) fn from_targets(targets: Vec<Target>, name: &str) -> Result<Image, FormatError> {
    Image::new(targets).map_err(|e| match e {
        ImageError::Overlap { address, .. } => FormatError::Overlap {
            file: name.to_string(),
            address,
        },
        ImageError::AddressOverflow { address, len } => FormatError::AddressRange {
            file: name.to_string(),
            address: address as u64 + len as u64,
        },
        ImageError::Empty => FormatError::Empty {
            file: name.to_string(),
        },
        // DuplicateAlt; nothing else reaches here.
        other => FormatError::Field {
            file: name.to_string(),
            offset: 0,
            what: "target alt setting",
            expected: "one target per alt setting".into(),
            found: other.to_string(),
        },
    })
}

/// Whether the first non-blank line starts with `start` and continues with at least
/// `min_digits` hex digits, nothing else (a type digit counts as a hex digit).
pub(crate) fn first_line_is(data: &[u8], start: &[u8], min_digits: usize) -> bool {
    let text = &data[data
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(data.len())..];
    let line = text.split(|b| *b == b'\n').next().unwrap_or(&[]);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    line.starts_with(start)
        && line.len() >= start.len() + min_digits
        && line[start.len()..].iter().all(u8::is_ascii_hexdigit)
}

/// Non-empty lines of a text file with their 1-based numbers; the text must be ASCII.
pub(crate) fn lines<'a>(
    data: &'a [u8],
    name: &'a str,
) -> impl Iterator<Item = Result<(usize, &'a str), FormatError>> + 'a {
    data.split(|b| *b == b'\n')
        .enumerate()
        .filter_map(
            move |(i, raw)| match std::str::from_utf8(raw).ok().filter(|t| t.is_ascii()) {
                None => Some(Err(FormatError::Line {
                    file: name.to_string(),
                    line: i + 1,
                    detail: "bytes that are not ASCII text".into(),
                })),
                Some(t) if t.trim().is_empty() => None,
                Some(t) => Some(Ok((i + 1, t.trim()))),
            },
        )
}
