//! ST's FlashLayout.tsv: `#Opt Id Name Type IP Offset Binary`, TAB separated.
//!
//! Rules (ST-SERIAL-BOOT.md A5, from U-Boot's stm32prog parser and the OpenBootloader's): repeated
//! TABs are one separator, CR is ignored, a line starting with `#` is a comment, blank lines are
//! skipped; `Binary` is host-only and relative to the TSV's directory.

use std::path::{Path, PathBuf};

/// Ids above this are the protocol's own phases (0xF1 command, 0xFE end, 0xFF reset); Id 0
/// is the layout's own phase (U-Boot refuses it as an invalid phase).
pub const MAX_ID: u32 = 0xF0;
/// The longest partition name U-Boot accepts.
pub const MAX_NAME: usize = 16;

/// A column of the TSV, for error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    /// `Opt`.
    Opt,
    /// `Id`.
    Id,
    /// `Name`.
    Name,
    /// `Type`.
    Type,
    /// `IP`.
    Ip,
    /// `Offset`.
    Offset,
    /// `Binary`.
    Binary,
}

impl Column {
    const ALL: [Column; 7] = [
        Column::Opt,
        Column::Id,
        Column::Name,
        Column::Type,
        Column::Ip,
        Column::Offset,
        Column::Binary,
    ];
    /// The column's header name.
    pub fn name(self) -> &'static str {
        match self {
            Column::Opt => "Opt",
            Column::Id => "Id",
            Column::Name => "Name",
            Column::Type => "Type",
            Column::Ip => "IP",
            Column::Offset => "Offset",
            Column::Binary => "Binary",
        }
    }
}

impl std::fmt::Display for Column {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A FlashLayout.tsv that cannot be used: where, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TsvError {
    /// A field is invalid.
    #[error("{file}:{line}: column {column}: {detail}")]
    Field {
        /// The TSV.
        file: String,
        /// 1-based line number.
        line: usize,
        /// The column.
        column: Column,
        /// What is wrong and what is allowed.
        detail: String,
    },
    /// A row lacks columns.
    #[error("{file}:{line}: {found} columns, expected 7 (Opt Id Name Type IP Offset Binary) separated by TABs")]
    Columns {
        /// The TSV.
        file: String,
        /// 1-based line number.
        line: usize,
        /// Columns found.
        found: usize,
    },
    /// The file has no row.
    #[error("{file}: no partition row; a FlashLayout.tsv needs at least one")]
    Empty {
        /// The TSV.
        file: String,
    },
    /// The TSV or a binary it names cannot be read.
    #[error("{file}: {detail}")]
    Io {
        /// The file.
        file: String,
        /// The system's words.
        detail: String,
    },
}

/// A row's Opt column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Opt {
    /// P: program.
    pub program: bool,
    /// E: the partition exists but is not downloaded.
    pub empty: bool,
    /// D: erase first.
    pub delete: bool,
}

impl Row {
    /// Whether the host sends this row's binary: `E` rows never are; `-` rows are when they
    /// are boot stages loaded to RAM (the MP1 layouts' `-` rows for TF-A and U-Boot), never
    /// when they name a partition of a memory (U-Boot: not selected, not programmed).
    pub fn downloads(&self) -> bool {
        !self.opt.empty && (self.opt.program || !matches!(self.ip, Ip::Memory(..)))
    }
}

/// Where a partition lives: the IP column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ip {
    /// `none`: a boot stage loaded to RAM by the device.
    None,
    /// `ram`.
    Ram,
    /// `mmcN`, `norN`, `nandN`, `spi-nandN`: the kind and the instance.
    Memory(String, u8),
}

/// One partition row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// 1-based line in the file.
    pub line: usize,
    /// Opt.
    pub opt: Opt,
    /// The Opt text as written.
    pub opt_text: String,
    /// Id: the phase that asks for it.
    pub id: u8,
    /// Name.
    pub name: String,
    /// Type.
    pub kind: String,
    /// IP as written.
    pub ip_text: String,
    /// IP.
    pub ip: Ip,
    /// Offset as written (a number or boot1/boot2).
    pub offset_text: String,
    /// Offset, when a number.
    pub offset: Option<u64>,
    /// The binary, resolved against the TSV's directory.
    pub binary: PathBuf,
}

/// A parsed FlashLayout.tsv.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlashLayout {
    /// The file it came from.
    pub path: PathBuf,
    /// Rows in file order.
    pub rows: Vec<Row>,
}

/// strtoul with base 0: `0x` hex, leading `0` octal, else decimal; the whole text.
pub fn strtoul0(s: &str) -> Option<u64> {
    let (digits, radix) = if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        (h, 16)
    } else if s.len() > 1 && s.starts_with('0') {
        (&s[1..], 8)
    } else {
        (s, 10)
    };
    if digits.is_empty() {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}

// U-Boot's stm32prog types; FWU_MDATA (U-Boot, 2023) and ESP are in ST's current MP layouts.
const TYPES: &[&str] = &[
    "Binary",
    "FIP",
    "System",
    "FileSystem",
    "RawImage",
    "ENV",
    "FWU_MDATA",
    "ESP",
];

fn valid_type(t: &str) -> bool {
    if TYPES.contains(&t) {
        return true;
    }
    // Binary(N): N a number (U-Boot's `Binary(<count>)`).
    t.strip_prefix("Binary(")
        .and_then(|r| r.strip_suffix(')'))
        .is_some_and(|n| strtoul0(n).is_some())
}

fn parse_ip(s: &str) -> Option<Ip> {
    match s {
        "none" => return Some(Ip::None),
        "ram" => return Some(Ip::Ram),
        _ => {}
    }
    for kind in ["spi-nand", "mmc", "nor", "nand"] {
        if let Some(n) = s.strip_prefix(kind) {
            if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) {
                return n.parse().ok().map(|n| Ip::Memory(kind.into(), n));
            }
        }
    }
    None
}

impl FlashLayout {
    /// Reads and parses a TSV.
    pub fn load(path: &Path) -> Result<Self, TsvError> {
        let bytes = std::fs::read(path).map_err(|e| TsvError::Io {
            file: path.display().to_string(),
            detail: format!("cannot read: {e}"),
        })?;
        let text = String::from_utf8_lossy(&bytes);
        Self::parse(&text, path)
    }

    /// Parses TSV text; `path` names it in errors and places the binaries.
    pub fn parse(text: &str, path: &Path) -> Result<Self, TsvError> {
        let file = path.display().to_string();
        let dir = path.parent().unwrap_or(Path::new("."));
        let mut rows: Vec<Row> = Vec::new();
        // A byte-order mark from an editor is not part of the first column.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        for (i, raw) in text.split('\n').enumerate() {
            let line = i + 1;
            let l: String = raw.chars().filter(|&c| c != '\r').collect();
            if l.trim().is_empty() || l.starts_with('#') {
                continue;
            }
            let cols: Vec<&str> = l.split('\t').filter(|c| !c.is_empty()).collect();
            if cols.len() != 7 {
                return Err(TsvError::Columns {
                    file,
                    line,
                    found: cols.len(),
                });
            }
            let err = |column: Column, detail: String| TsvError::Field {
                file: file.clone(),
                line,
                column,
                detail,
            };
            let c = |k: Column| cols[Column::ALL.iter().position(|x| *x == k).unwrap()].trim();
            let opt_text = c(Column::Opt);
            let opt = parse_opt(opt_text).map_err(|d| err(Column::Opt, d))?;
            let id_text = c(Column::Id);
            let id = strtoul0(id_text)
                .filter(|&v| (1..=MAX_ID as u64).contains(&v))
                .ok_or_else(|| {
                    err(
                        Column::Id,
                        format!("{id_text:?} is not a number from 0x01 to 0xF0 (0x00 is the layout's own phase, 0xF1 and up the protocol's)"),
                    )
                })? as u8;
            if let Some(first) = rows.iter().find(|r| r.id == id) {
                return Err(err(
                    Column::Id,
                    format!(
                        "Id {id:#04x} is already used on line {}; each row needs its own",
                        first.line
                    ),
                ));
            }
            let name = c(Column::Name);
            if name.is_empty() || name.len() > MAX_NAME {
                return Err(err(
                    Column::Name,
                    format!(
                        "{name:?} has {} characters; 1 to {MAX_NAME} are allowed",
                        name.len()
                    ),
                ));
            }
            let kind = c(Column::Type);
            if !valid_type(kind) {
                return Err(err(
                    Column::Type,
                    format!("{kind:?} is not one of Binary, Binary(N), FIP, System, FileSystem, RawImage, ENV, FWU_MDATA, ESP"),
                ));
            }
            let ip_text = c(Column::Ip);
            let ip = parse_ip(ip_text).ok_or_else(|| {
                err(
                    Column::Ip,
                    format!("{ip_text:?} is not one of none, ram, mmcN, norN, nandN, spi-nandN"),
                )
            })?;
            let offset_text = c(Column::Offset);
            let offset = strtoul0(offset_text);
            let boot = matches!(offset_text, "boot1" | "boot2");
            if offset.is_none() && !(boot && matches!(&ip, Ip::Memory(k, _) if k == "mmc")) {
                return Err(err(
                    Column::Offset,
                    format!("{offset_text:?} is not a number (boot1/boot2 only on an mmc device)"),
                ));
            }
            let bin = c(Column::Binary);
            rows.push(Row {
                line,
                opt,
                opt_text: opt_text.into(),
                id,
                name: name.into(),
                kind: kind.into(),
                ip_text: ip_text.into(),
                ip,
                offset_text: offset_text.into(),
                offset,
                binary: dir.join(bin),
            });
        }
        if rows.is_empty() {
            return Err(TsvError::Empty { file });
        }
        Ok(Self {
            path: path.to_path_buf(),
            rows,
        })
    }

    /// The row of this Id.
    pub fn row(&self, id: u8) -> Option<&Row> {
        self.rows.iter().find(|r| r.id == id)
    }

    /// The layout as the device reads it: six columns (the OpenBootloader loops forever on a
    /// seventh or on a `#` line), no comments, every row ending in a line feed (it drops a
    /// last row without one). ST-SERIAL-BOOT.md D.
    pub fn device_text(&self) -> Vec<u8> {
        let mut out = String::new();
        for r in &self.rows {
            out.push_str(&format!(
                "{}\t{:#x}\t{}\t{}\t{}\t{}\n",
                r.opt_text, r.id, r.name, r.kind, r.ip_text, r.offset_text
            ));
        }
        out.into_bytes()
    }
}

fn parse_opt(s: &str) -> Result<Opt, String> {
    if s == "-" {
        return Ok(Opt::default());
    }
    let mut o = Opt::default();
    for ch in s.chars() {
        let flag = match ch {
            'P' => &mut o.program,
            'E' => &mut o.empty,
            'D' => &mut o.delete,
            _ => {
                return Err(format!(
                    "{s:?}: {ch:?} is not an option; use -, or letters from P, E, D"
                ))
            }
        };
        if *flag {
            return Err(format!("{s:?}: {ch:?} is given twice"));
        }
        *flag = true;
    }
    if s.is_empty() {
        return Err("empty; use -, or letters from P, E, D".into());
    }
    if !o.program {
        return Err(format!(
            "{s:?} lacks P; options other than - must include P"
        ));
    }
    Ok(o)
}
