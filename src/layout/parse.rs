//! The DfuSe layout grammar, parsed and checked: every group below 4 GiB, no two groups
//! overlapping, sectors and their count bounded (see the module's trust rule).

use super::{Group, Layout, LayoutError, Perms, SectorRun, MAX_SECTORS, MAX_SECTOR_SIZE};

impl Layout {
    /// Parses a DfuSe memory layout string and checks it (see the module's trust rule).
    pub fn parse(text: &str) -> Result<Self, LayoutError> {
        let source_text = text.to_string();
        let syntax = |offset: usize, what: &'static str| LayoutError::Syntax {
            source_text: source_text.clone(),
            offset,
            what,
        };
        let body = text
            .strip_prefix('@')
            .ok_or_else(|| LayoutError::NotDfuse {
                source_text: source_text.clone(),
            })?
            .trim_end_matches(['\0', ' ', '\r', '\n']);
        let mut parts = body.split('/');
        let raw_name = parts.next().unwrap_or("");
        let name = raw_name.trim().to_string();
        let mut offset = 1 + raw_name.len();
        let mut groups = Vec::new();
        let mut rest: Vec<&str> = parts.collect();
        // Skip a final empty part left by a trailing '/'.
        if rest.last() == Some(&"") {
            rest.pop();
        }
        if rest.is_empty() {
            return Err(syntax(text.len(), "expected '/0xADDR/' after the name"));
        }
        if rest.len() % 2 != 0 {
            return Err(syntax(
                text.len(),
                "expected sector runs after the last address",
            ));
        }
        let mut sectors = 0u64;
        let mut texts = Vec::new();
        for pair in rest.chunks(2) {
            let (addr_text, runs_text) = (pair[0], pair[1]);
            offset += 1; // the '/'
            let start = parse_address(addr_text.trim())
                .ok_or_else(|| syntax(offset, "expected a hexadecimal address like 0x08000000"))?;
            offset += addr_text.len() + 1;
            let mut runs = Vec::new();
            let mut run_offset = offset;
            let mut end = start as u64;
            for run_text in runs_text.split(',') {
                let run = parse_run(run_text).map_err(|(o, what)| syntax(run_offset + o, what))?;
                if run.size > MAX_SECTOR_SIZE {
                    return Err(LayoutError::Limit {
                        source_text,
                        what: format!(
                            "sectors of {} bytes at byte {run_offset}; the most is {MAX_SECTOR_SIZE}",
                            run.size
                        ),
                    });
                }
                sectors += run.count as u64;
                if sectors > MAX_SECTORS {
                    return Err(LayoutError::Limit {
                        source_text,
                        what: format!("{sectors} or more sectors; the most is {MAX_SECTORS}"),
                    });
                }
                // Count and size are both below 2^32, so neither the product nor the sum wraps.
                end += run.bytes();
                if end > 1 << 32 {
                    return Err(LayoutError::Overflow { source_text, start });
                }
                runs.push(run);
                run_offset += run_text.len() + 1;
            }
            offset += runs_text.len();
            groups.push(Group { start, runs });
            texts.push(format!("{}/{}", addr_text.trim(), runs_text.trim()));
        }
        check_overlaps(&groups, &texts, &source_text)?;
        Ok(Self {
            name,
            groups,
            source: text.to_string(),
        })
    }
}

/// Refuses two groups that share an address, naming both as the string gives them.
fn check_overlaps(
    groups: &[Group],
    texts: &[String],
    source_text: &str,
) -> Result<(), LayoutError> {
    let mut by_start: Vec<usize> = (0..groups.len())
        .filter(|&i| groups[i].end() > groups[i].start as u64)
        .collect();
    by_start.sort_by_key(|&i| groups[i].start);
    let describe = |i: usize| {
        let g = &groups[i];
        format!("{:?} ({:#010x}..{:#010x})", texts[i], g.start, g.end())
    };
    for pair in by_start.windows(2) {
        if groups[pair[0]].end() > groups[pair[1]].start as u64 {
            return Err(LayoutError::Overlap {
                source_text: source_text.to_string(),
                first: describe(pair[0]),
                second: describe(pair[1]),
            });
        }
    }
    Ok(())
}

fn parse_address(text: &str) -> Option<u32> {
    let hex = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))?;
    if hex.is_empty() || hex.len() > 8 {
        return None;
    }
    u32::from_str_radix(hex, 16).ok()
}

/// `N*SIZE<mult><type>`; errors carry an offset into `text`.
fn parse_run(text: &str) -> Result<SectorRun, (usize, &'static str)> {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() && b[i] == b' ' {
        i += 1;
    }
    let count_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let count: u32 = text[count_start..i]
        .parse()
        .map_err(|_| (count_start, "expected a sector count"))?;
    if b.get(i) != Some(&b'*') {
        return Err((i, "expected '*' after the sector count"));
    }
    i += 1;
    let size_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let size: u32 = text[size_start..i]
        .parse()
        .map_err(|_| (size_start, "expected a sector size"))?;
    let mult: u32 = match b.get(i) {
        Some(b'K') => 1024,
        Some(b'M') => 1024 * 1024,
        Some(b'B') | Some(b' ') => 1,
        _ => 0,
    };
    if mult != 0 {
        i += 1;
    } else {
        // The multiplier is sometimes left out entirely ("01*004e").
    }
    let mult = mult.max(1);
    let perms = match b.get(i) {
        Some(c @ b'a'..=b'g') => Perms(c - b'a' + 1),
        _ => return Err((i, "expected a memory type letter a..g")),
    };
    i += 1;
    if text[i..].trim().is_empty() {
        let size = size
            .checked_mul(mult)
            .filter(|s| *s > 0)
            .ok_or((size_start, "sector size is zero or too large"))?;
        // A run of no sectors is a label, not an error: Arduino's Portenta bootloader publishes
        // its version as "@MCUboot        v.25   /0x00000000/0*4Kg".
        Ok(SectorRun { count, size, perms })
    } else {
        Err((i, "unexpected text after the memory type"))
    }
}
