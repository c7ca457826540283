//! The state file: a device's memory and protection, saved so that several runs see the same
//! device.

use std::io::{BufRead, Read, Write};
use std::path::Path;

use super::{SimDevice, SimError};

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
        writeln!(f, "end").map_err(err)?;
        f.into_inner()
            .map_err(|e| err(e.into_error()))?
            .sync_all()
            .map_err(err)?;
        std::fs::rename(&tmp, path).map_err(err)
    }

    /// Opens the device whose state `path` holds, or a fresh one if the file does not exist.
    /// The device powers on as the ROM does, with the saved memory.
    pub fn with_state(model: &str, path: &Path) -> Result<Self, SimError> {
        let mut dev = Self::new(model)?;
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
        if next(&mut r)? != "end" {
            return Err(bad("missing end marker (file truncated?)".into()));
        }
        Ok(dev)
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
}
