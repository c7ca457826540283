//! The simulated boards the environment attaches: `DFUFLASH_SIM` (models separated by commas,
//! the first with `DFUFLASH_SIM_STATE`), and the lines of the `DFUFLASH_SIM_PLUG` file, read
//! again at every listing so that a test plugs and unplugs boards by editing it.

use std::path::{Path, PathBuf};

use super::Entry;
use crate::error::Error;
use crate::sim::SimError;

const SIM_ENV: &str = "DFUFLASH_SIM";
const SIM_STATE_ENV: &str = "DFUFLASH_SIM_STATE";
const SIM_PLUG_ENV: &str = "DFUFLASH_SIM_PLUG";

/// Simulated boards of these models, numbered as `DFUFLASH_SIM` numbers them: the first of a
/// model has the path `sim:MODEL`, the second `sim:MODEL#2`, and so on. The first board keeps
/// its memory in `state` when given. A host that attaches boards of its own (the command's
/// repeated `--sim`) gets the same paths an environment would give.
pub fn simulated_boards(models: &[&str], state: Option<&Path>) -> Result<Vec<Entry>, Error> {
    let mut out = Vec::new();
    let mut state = state.map(Path::to_path_buf);
    for name in models {
        let path = next_sim_path(&out, name);
        out.push(Entry::simulated(name, state.take(), Some(path))?);
    }
    Ok(out)
}

/// The path the next board of `model` gets among `attached`: `sim:MODEL`, then `sim:MODEL#2`...
fn next_sim_path(attached: &[Entry], model: &str) -> String {
    let same = attached
        .iter()
        .filter(|o| o.simulated.is_some_and(|m| m == model))
        .count();
    match same {
        0 => format!("sim:{model}"),
        n => format!("sim:{model}#{}", n + 1),
    }
}

/// The boards the environment attaches: `DFUFLASH_SIM` (each a model name, the first with
/// `DFUFLASH_SIM_STATE`), then the lines of the `DFUFLASH_SIM_PLUG` file, read again at every
/// listing so that a test plugs and unplugs boards by editing it.
pub(super) fn attached_simulations() -> Result<Vec<Entry>, Error> {
    let mut out: Vec<Entry> = Vec::new();
    if let Some(models) = std::env::var_os(SIM_ENV) {
        let models = models.to_string_lossy().into_owned();
        let mut state = std::env::var_os(SIM_STATE_ENV).map(PathBuf::from);
        for name in models.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let path = next_sim_path(&out, name);
            let entry = Entry::simulated(name, state.take(), Some(path))
                .map_err(|e| sim_error(e, &format!("{SIM_ENV}={models}")))?;
            out.push(entry);
        }
    }
    if let Some(file) = std::env::var_os(SIM_PLUG_ENV) {
        plugged_simulations(Path::new(&file), &mut out)?;
    }
    Ok(out)
}

/// A simulator error, saying where the environment named the board.
fn sim_error(e: SimError, place: &str) -> Error {
    SimError::Attached {
        place: place.to_string(),
        source: Box::new(e),
    }
    .into()
}

/// The boards a plug file lists, one per line: `MODEL`, or `MODEL@PORTPATH` to give the port
/// path (stable when other lines come and go); blank lines and lines that start with `#` are
/// skipped. A
/// missing file attaches nothing. A plugged board is a fresh one each time it is opened.
fn plugged_simulations(file: &Path, out: &mut Vec<Entry>) -> Result<(), Error> {
    let place = |n: usize| format!("{SIM_PLUG_ENV}={} line {n}", file.display());
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => {
            return Err(Error::InvalidArgument(format!(
                "{SIM_PLUG_ENV}={}: {e}",
                file.display()
            )))
        }
    };
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (model, path) = match line.split_once('@') {
            Some((m, p)) => (m.trim(), p.trim().to_string()),
            None => (line, next_sim_path(out, line)),
        };
        // Port paths are what tells boards apart: two boards on one port cannot be.
        if out
            .iter()
            .any(|e| e.info.port_path.as_deref() == Some(path.as_str()))
        {
            return Err(Error::InvalidArgument(format!(
                "{}: port path {path} is already attached",
                place(i + 1)
            )));
        }
        let entry =
            Entry::simulated(model, None, Some(path)).map_err(|e| sim_error(e, &place(i + 1)))?;
        out.push(entry);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(entries: &[Entry]) -> Vec<&str> {
        entries
            .iter()
            .map(|e| e.info.port_path.as_deref().unwrap())
            .collect()
    }

    #[test]
    fn a_plug_file_attaches_its_lines_numbered_after_the_boards_already_there() {
        let file = std::env::temp_dir().join(format!("dfuflash-plug-{}", std::process::id()));
        std::fs::write(
            &file,
            "# bench\nstm32f405\n\nstm32h743-revv@1-1.2\n  stm32f405  \nstm32h743-revv@sim:x#3\n",
        )
        .unwrap();
        let mut out = simulated_boards(&["stm32f405"], None).unwrap();
        plugged_simulations(&file, &mut out).unwrap();
        assert_eq!(
            paths(&out),
            [
                "sim:stm32f405",
                "sim:stm32f405#2",
                "1-1.2",
                "sim:stm32f405#3",
                "sim:x#3"
            ]
        );
        assert_eq!(out[2].simulated, Some("stm32h743-revv"));
        assert_eq!(out[2].info.serial.as_deref(), Some("200364500000"));

        std::fs::write(&file, "stm32f405@1-1.2\nstm32l4@1-1.2\n").unwrap();
        let err = plugged_simulations(&file, &mut Vec::new()).unwrap_err();
        assert!(
            err.to_string()
                .contains("line 2: port path 1-1.2 is already attached"),
            "{err}"
        );
        std::fs::write(&file, "nosuch\n").unwrap();
        let err = plugged_simulations(&file, &mut Vec::new()).unwrap_err();
        assert!(
            err.to_string()
                .contains("line 1: unknown simulator model \"nosuch\""),
            "{err}"
        );
        // No file: nothing plugged in.
        std::fs::remove_file(&file).unwrap();
        let mut none = Vec::new();
        plugged_simulations(&file, &mut none).unwrap();
        assert!(none.is_empty());
    }
}
