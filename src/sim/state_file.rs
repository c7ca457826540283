//! The state file: a device's memory and protection, saved so that several runs see the same
//! device.

use std::io::{BufRead, Read, Write};
use std::path::Path;

use std::time::Duration;

use super::work::{Background, Work};
use super::{SimDevice, SimError};
use crate::protocol::{State, Status};

impl SimDevice {
    /// Saves the device's memory and protection to a state file.
    pub fn save_state(&self, path: &Path) -> Result<(), SimError> {
        let err = |e: std::io::Error| SimError::StateFile {
            path: path.to_path_buf(),
            detail: e.to_string(),
        };
        let tmp = path.with_extension("tmp");
        let mut f = std::io::BufWriter::new(std::fs::File::create(&tmp).map_err(err)?);
        writeln!(f, "DFUFLASH-SIM 1").map_err(err)?;
        writeln!(f, "model {}", self.model.name).map_err(err)?;
        writeln!(f, "protected {}", self.read_protected as u8).map_err(err)?;
        let lens: Vec<String> = self.firmware_len.iter().map(|n| n.to_string()).collect();
        writeln!(f, "firmware {}", lens.join(" ")).map_err(err)?;
        for r in &self.regions {
            writeln!(f, "region {} {:#010x} {}", r.alt, r.start, r.data.len()).map_err(err)?;
            f.write_all(&r.data).map_err(err)?;
            writeln!(f).map_err(err)?;
        }
        // The N6's external NOR: the sectors written, each whole.
        for (offset, bytes) in self.n6.iter().flat_map(|n6| n6.nor_sectors()) {
            writeln!(f, "nor {offset:#010x} {}", bytes.len()).map_err(err)?;
            f.write_all(bytes).map_err(err)?;
            writeln!(f).map_err(err)?;
        }
        if let Some(w) = self.wedge_record() {
            writeln!(f, "{w}").map_err(err)?;
        }
        writeln!(f, "end").map_err(err)?;
        f.into_inner()
            .map_err(|e| err(e.into_error()))?
            .sync_all()
            .map_err(err)?;
        std::fs::rename(&tmp, path).map_err(err)
    }

    /// Opens the device whose state `path` holds, or a fresh one if the file does not exist.
    /// The device powers on as the ROM does, with the saved memory, unless the file records a
    /// Rev V wedge it was left in (its host died mid-erase; the board kept its power).
    pub fn with_state(model: &str, path: &Path) -> Result<Self, SimError> {
        let mut dev = Self::new(model)?;
        dev.state_path = Some(path.to_path_buf());
        if !path.exists() {
            return Ok(dev);
        }
        let bad = |detail: String| SimError::StateFile {
            path: path.to_path_buf(),
            detail,
        };
        let file = std::fs::File::open(path).map_err(|e| bad(e.to_string()))?;
        let mut r = std::io::BufReader::new(file);
        let mut line = String::new();
        let mut next = |r: &mut std::io::BufReader<std::fs::File>| -> Result<String, SimError> {
            line.clear();
            r.read_line(&mut line).map_err(|e| bad(e.to_string()))?;
            Ok(line.trim_end().to_string())
        };
        if next(&mut r)? != "DFUFLASH-SIM 1" {
            return Err(bad("not a dfuflash simulator state file".into()));
        }
        let m = next(&mut r)?;
        if m != format!("model {model}") {
            return Err(bad(format!(
                "holds {:?}, not model {model}; use another file or delete it",
                m.trim_start_matches("model ")
            )));
        }
        dev.read_protected = next(&mut r)? == "protected 1";
        let lens = next(&mut r)?;
        let lens: Vec<usize> = lens
            .trim_start_matches("firmware ")
            .split(' ')
            .map(|n| n.parse())
            .collect::<Result<_, _>>()
            .map_err(|_| bad("bad firmware line".into()))?;
        // A file from before slots per alt setting holds the first slot's length alone.
        if lens.len() > dev.firmware_len.len() {
            return Err(bad(format!(
                "{} firmware slots, the model has {}",
                lens.len(),
                dev.firmware_len.len()
            )));
        }
        dev.firmware_len[..lens.len()].copy_from_slice(&lens);
        for i in 0..dev.regions.len() {
            let l = next(&mut r)?;
            let expect = format!(
                "region {} {:#010x} {}",
                dev.regions[i].alt,
                dev.regions[i].start,
                dev.regions[i].data.len()
            );
            if l != expect {
                return Err(bad(format!("expected {expect:?}, found {l:?}")));
            }
            r.read_exact(&mut dev.regions[i].data)
                .map_err(|e| bad(format!("region {i}: {e}")))?;
            next(&mut r)?;
        }
        let mut last = next(&mut r)?;
        while let Some(head) = last.strip_prefix("nor ") {
            let (offset, len) = head
                .split_once(' ')
                .and_then(|(o, l)| {
                    let o = u32::from_str_radix(o.strip_prefix("0x")?, 16).ok()?;
                    Some((o, l.parse::<usize>().ok().filter(|&l| l <= 1 << 20)?))
                })
                .ok_or_else(|| bad(format!("bad NOR line {last:?}")))?;
            let mut bytes = vec![0; len];
            r.read_exact(&mut bytes)
                .map_err(|e| bad(format!("NOR at {offset:#x}: {e}")))?;
            next(&mut r)?;
            dev.n6
                .as_mut()
                .and_then(|n6| n6.restore_nor_sector(offset, bytes))
                .ok_or_else(|| bad(format!("{last:?} is not a sector of this model's NOR")))?;
            last = next(&mut r)?;
        }
        if last.starts_with("wedged ") {
            dev.resume_wedge(&last)
                .ok_or_else(|| bad(format!("bad wedge line {last:?}")))?;
            last = next(&mut r)?;
        }
        if last != "end" {
            return Err(bad("missing end marker (file truncated?)".into()));
        }
        Ok(dev)
    }

    /// A Rev V erase wedged when the file was saved (the host died, the board kept power):
    /// `wedged ALT ADDRESS SIZE DONE LEFT_US ERASES`, DONE bytes of the sector already erased.
    fn wedge_record(&self) -> Option<String> {
        let bg = self.bg.filter(|b| b.wedged)?;
        let (alt, address, size, erases) = match bg.work {
            Some(Work::Erase { alt, address, size }) => (alt, address, size, 1),
            _ => (self.alt, 0, 0, 0),
        };
        let total = (bg.done_at - bg.started).as_secs_f64();
        let fraction = (self.now - bg.started).as_secs_f64() / total.max(f64::MIN_POSITIVE);
        let done = (size as f64 * fraction.clamp(0.0, 1.0)) as u32;
        let left = bg.done_at.saturating_sub(self.now).as_micros();
        Some(format!(
            "wedged {alt} {address:#010x} {size} {done} {left} {erases}"
        ))
    }

    /// The board is still in the wedge the file records: the part erased is applied, the rest
    /// goes on in the background, and the ROM answers OK/dfuDNBUSY.
    fn resume_wedge(&mut self, line: &str) -> Option<()> {
        let f: Vec<&str> = line.split(' ').skip(1).collect();
        let [alt, address, size, done, left, erases] = f[..] else {
            return None;
        };
        let alt: u8 = alt.parse().ok()?;
        let address = u32::from_str_radix(address.strip_prefix("0x")?, 16).ok()?;
        let size: u32 = size.parse().ok()?;
        let done: u32 = done.parse::<u32>().ok()?.min(size);
        let left = Duration::from_micros(left.parse().ok()?);
        let erases = erases == "1";
        if erases {
            self.apply(
                Work::Erase {
                    alt,
                    address,
                    size: done,
                },
                1.0,
            );
        }
        self.alt = alt;
        self.state = State::DnBusy;
        self.status = Status::Ok;
        self.bg = Some(Background {
            started: self.now,
            done_at: self.now + left.max(Duration::from_micros(1)),
            work: erases.then_some(Work::Erase {
                alt,
                address: address + done,
                size: size - done,
            }),
            wedged: true,
            poll_ms: 1000,
        });
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> std::path::PathBuf {
        std::env::temp_dir().join(format!("dfuflash-state-{}-{name}", std::process::id()))
    }

    #[test]
    fn a_file_from_before_slots_per_alt_setting_still_loads() {
        // An ST ROM keeps one value, as every file did.
        let p = tmp("h7");
        SimDevice::new("stm32h743-revy")
            .unwrap()
            .save_state(&p)
            .unwrap();
        let text = std::fs::read(&p).unwrap();
        assert!(text.windows(11).any(|w| w == b"firmware 0\n"));
        // A two-slot DFU 1.1 device read from a one-value line: that is the first slot.
        let p2 = tmp("tinyusb");
        SimDevice::new("tinyusb-dfu")
            .unwrap()
            .save_state(&p2)
            .unwrap();
        let text = std::fs::read(&p2).unwrap();
        let at = text.windows(12).position(|w| w == b"firmware 0 0").unwrap();
        let mut old = text[..at].to_vec();
        old.extend_from_slice(b"firmware 5");
        old.extend_from_slice(&text[at + 12..]);
        std::fs::write(&p2, old).unwrap();
        let dev = SimDevice::with_state("tinyusb-dfu", &p2).unwrap();
        assert_eq!(dev.firmware_of(0), [0xff; 5]);
        assert!(dev.firmware_of(1).is_empty());
        for f in [p, p2] {
            std::fs::remove_file(f).unwrap();
        }
    }

    #[test]
    fn the_n6_nor_survives_the_state_file_and_a_sector_outside_it_is_refused() {
        let p = tmp("n6");
        let mut dev = SimDevice::new("stm32n6").unwrap();
        let mut sector = vec![0xff; 4096];
        sector[..3].copy_from_slice(&[1, 2, 3]);
        dev.n6
            .as_mut()
            .unwrap()
            .restore_nor_sector(5 * 4096, sector)
            .unwrap();
        dev.save_state(&p).unwrap();
        let back = SimDevice::with_state("stm32n6", &p).unwrap();
        assert_eq!(back.n6().unwrap().nor(5 * 4096, 4), [1, 2, 3, 0xff]);
        assert_eq!(back.n6().unwrap().nor(0, 1), [0xff]);
        let text = std::fs::read(&p).unwrap();
        let at = text
            .windows(15)
            .position(|w| w == b"nor 0x00005000 ")
            .unwrap();
        let mut bad = text.clone();
        bad.splice(at..at + 14, b"nor 0x7fff0000".iter().copied());
        std::fs::write(&p, bad).unwrap();
        let e = SimDevice::with_state("stm32n6", &p)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("\"nor 0x7fff0000 4096\" is not a sector of this model's NOR"),
            "{e}"
        );
        std::fs::remove_file(p).unwrap();
    }
}
