//! The USB subset of STM32_Programmer_CLI's command line, as its callers really pass it: empty
//! arguments, options joined by spaces in one argument (`"--erase all"`, Zephyr's
//! `"port=usb1 freq=4000"`), an empty `sn=`, a repeated `-c`. Whatever is not supported is an
//! error that says so, never ignored.

use crate::dropin::number;

/// `-c port=USBn [sn=S] [VID=V] [PID=P]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Connect {
    /// Which matching board, from 0 (`USB1`; plain `USB` is the first).
    pub index: usize,
    pub serial: Option<String>,
    pub vid: Option<u16>,
    pub pid: Option<u16>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Erase {
    All,
    /// Sector numbers of the internal flash (alt setting 0's layout).
    Sectors(Vec<usize>),
}

/// One operation, run in command-line order as CubeProgrammer runs them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    Download {
        file: String,
        address: Option<u32>,
    },
    /// A FlashLayout.tsv: the serial-boot phase protocol (STM32MP, STM32N6).
    Layout {
        file: String,
    },
    Verify,
    Erase(Erase),
    Start(Option<u32>),
    Upload {
        address: u32,
        size: u32,
        file: String,
    },
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Args {
    pub connect: Option<Connect>,
    pub list: bool,
    pub quiet: bool,
    /// `-vb N`: 1 (the default) as CubeProgrammer; 2 and 3 add the engine's log lines.
    pub verbosity: u8,
    pub log: Option<String>,
    pub help: bool,
    pub version: bool,
    pub ops: Vec<Op>,
}

/// Splits each argument on spaces when it is options or `key=value` words joined in one
/// argument; a lone word (a path, which may hold spaces) stays whole. Empty arguments go.
pub fn tokens(args: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for a in args {
        let first = a.split_whitespace().next().unwrap_or_default();
        if first.is_empty() {
            continue;
        }
        if first.starts_with('-') || first.contains('=') {
            out.extend(a.split_whitespace().map(str::to_string));
        } else {
            out.push(a.trim().to_string());
        }
    }
    out
}

/// The refusal of something this drop-in does not do.
fn unsupported(what: &str) -> String {
    format!("Error: {what} is not supported by this STM32_Programmer_CLI drop-in (dfuflash: USB DFU only)")
}

fn address(s: &str, what: &str) -> Result<u32, String> {
    number(s).ok_or_else(|| format!("Error: {what}: {s:?} is not a number"))
}

struct Cursor {
    t: Vec<String>,
    i: usize,
}

impl Cursor {
    fn next(&mut self) -> Option<String> {
        let s = self.t.get(self.i).cloned();
        self.i += 1;
        s
    }

    /// The next word when it is a value (not an option).
    fn value(&mut self) -> Option<String> {
        let s = self.t.get(self.i).filter(|s| !s.starts_with('-'))?.clone();
        self.i += 1;
        Some(s)
    }

    /// The next word when it is a number.
    fn number(&mut self) -> Option<u32> {
        let n = number(self.t.get(self.i)?)?;
        self.i += 1;
        Some(n)
    }
}

pub fn parse(args: &[String]) -> Result<Args, String> {
    let mut c = Cursor {
        t: tokens(args),
        i: 0,
    };
    let mut a = Args::default();
    while let Some(opt) = c.next() {
        match opt.as_str() {
            "-c" | "--connect" => connect(&mut c, a.connect.get_or_insert_with(Default::default))?,
            "-l" | "--list" => {
                if let Some(kind) = c.value() {
                    if !kind.eq_ignore_ascii_case("usb") {
                        return Err(unsupported(&format!("listing {kind} interfaces")));
                    }
                }
                a.list = true;
            }
            "-d" | "--download" | "-w" | "--write" => {
                let file = c
                    .value()
                    .ok_or_else(|| format!("Error: {opt} needs a file"))?;
                if file.to_ascii_lowercase().ends_with(".tsv") {
                    a.ops.push(Op::Layout { file });
                    continue;
                }
                let address = c.number();
                a.ops.push(Op::Download { file, address });
            }
            "-v" | "--verify" => a.ops.push(Op::Verify),
            "-e" | "--erase" => a.ops.push(Op::Erase(erase(&mut c)?)),
            "-s" | "--start" | "-g" | "--go" => a.ops.push(Op::Start(c.number())),
            "-q" | "--quietMode" => a.quiet = true,
            "-r" | "-u" | "--upload" | "--read" => {
                let mut word = |what| {
                    c.value().ok_or_else(|| {
                        format!("Error: {opt} needs ADDRESS SIZE FILE ({what} missing)")
                    })
                };
                let at = address(&word("ADDRESS")?, "upload address")?;
                let size = address(&word("SIZE")?, "upload size")?;
                let file = word("FILE")?;
                a.ops.push(Op::Upload {
                    address: at,
                    size,
                    file,
                });
            }
            "-vb" | "--verbosity" => {
                a.verbosity = c.number().map_or(1, |n| n.min(3) as u8);
            }
            "-log" | "--log" => a.log = Some(c.value().unwrap_or_else(|| "trace.log".into())),
            "-h" | "--help" | "-?" => a.help = true,
            "--version" | "-version" => a.version = true,
            "-ob" | "--optionbytes" => return Err(unsupported("-ob (option bytes by name)")),
            "-rdu" | "--readunprotect" => return Err(unsupported("-rdu (read unprotect)")),
            "-el" | "--extload" => return Err(unsupported("-el (external loaders)")),
            o if o.starts_with('-') => return Err(unsupported(&format!("option {o}"))),
            o => return Err(format!("Error: unexpected argument {o:?}")),
        }
    }
    Ok(a)
}

/// The words of `-c`: `key=value` pairs, any case; a repeated `-c` adds to the same connection.
fn connect(c: &mut Cursor, to: &mut Connect) -> Result<(), String> {
    let mut port = false;
    while let Some(word) = c.t.get(c.i).filter(|w| w.contains('=')).cloned() {
        c.i += 1;
        let (key, value) = word.split_once('=').unwrap_or_default();
        // USB ids are hexadecimal, with 0x or without (VID=0483 is not octal).
        let id = |v: &str| {
            let digits = v.strip_prefix("0x").or_else(|| v.strip_prefix("0X"));
            u16::from_str_radix(digits.unwrap_or(v), 16)
                .map_err(|_| format!("Error: {word}: not a USB id (4 hex digits, such as 0x0483)"))
        };
        match key.to_ascii_lowercase().as_str() {
            "port" => {
                let v = value.to_ascii_lowercase();
                let n = v
                    .strip_prefix("usb")
                    .ok_or_else(|| unsupported(&format!("port={value}")))?;
                to.index = match n {
                    "" => 0,
                    n => {
                        n.parse::<usize>().ok().filter(|&n| n >= 1).ok_or_else(|| {
                            format!("Error: port={value}: USB ports are USB1, USB2, ...")
                        })? - 1
                    }
                };
                port = true;
            }
            // An empty sn= (mbed-ce with no serial configured) selects nothing.
            "sn" => to.serial = Some(value.to_string()).filter(|s| !s.is_empty()),
            "vid" => to.vid = Some(id(value)?),
            "pid" => to.pid = Some(id(value)?),
            // SWD's settings: meaningless over USB, and Zephyr passes them with port=usb1.
            "freq" | "reset" | "mode" => {}
            _ => return Err(unsupported(&format!("connect setting {word}"))),
        }
    }
    // A `-c` with no words before a second `-c` (mbed-ce's `-c -c port=...`) is harmless.
    if !port && !c.t.get(c.i).is_some_and(|w| w == "-c" || w == "--connect") {
        return Err("Error: --connect needs port=USB1 (USB DFU only)".into());
    }
    Ok(())
}

/// More sectors than any DfuSe flash has (the largest ST parts have a few thousand pages).
const MAX_SECTORS: usize = 65536;

/// `-e all`, `-e [N M]` (a range, brackets in any spacing) or `-e N M ...` (a list).
fn erase(c: &mut Cursor) -> Result<Erase, String> {
    if c.t.get(c.i).is_some_and(|w| w.eq_ignore_ascii_case("all")) {
        c.i += 1;
        return Ok(Erase::All);
    }
    let mut text = String::new();
    let part = |w: &String| {
        let inner = w.replace(['[', ']'], " ");
        !w.starts_with('-')
            && inner.split_whitespace().all(|x| number(x).is_some())
            && (w.contains(['[', ']']) || !inner.trim().is_empty())
    };
    while let Some(w) = c.t.get(c.i).filter(|w| part(w)) {
        text.push_str(w);
        text.push(' ');
        c.i += 1;
    }
    let ranged = text.contains('[');
    let numbers: Option<Vec<usize>> = text
        .replace(['[', ']'], " ")
        .split_whitespace()
        .map(|w| number(w).map(|n| n as usize))
        .collect();
    match (numbers, ranged) {
        (Some(n), true) if n.len() == 2 && n[0] > n[1] => Err(format!(
            "Error: --erase [{} {}]: the range is reversed; give [{} {}]",
            n[0], n[1], n[1], n[0]
        )),
        // The device refuses sectors it lacks; a range past any flash is refused before it is
        // spelled out sector by sector.
        (Some(n), true) if n.len() == 2 && n[1] - n[0] >= MAX_SECTORS => Err(format!(
            "Error: --erase [{} {}] names {} sectors; no flash has more than {MAX_SECTORS}",
            n[0],
            n[1],
            (n[1] - n[0]) as u64 + 1
        )),
        (Some(n), true) if n.len() == 2 => Ok(Erase::Sectors((n[0]..=n[1]).collect())),
        (Some(n), false) if !n.is_empty() => Ok(Erase::Sectors(n)),
        _ => Err("Error: --erase needs all, [START END] or sector numbers".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Result<Args, String> {
        parse(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn the_callers_shapes_parse() {
        let a = p(&["--connect", "port=usb1 VID=0x0483 PID=0xdf11", "", "-q"]).unwrap();
        let a = Args {
            ops: p(&["--download", "x.bin", "0x8000000", "--start", "0x8000000"])
                .unwrap()
                .ops,
            ..a
        };
        let c = a.connect.unwrap();
        assert_eq!((c.index, c.vid, c.pid), (0, Some(0x0483), Some(0xdf11)));
        let bare = p(&["-c", "port=USB1", "VID=0483", "PID=DF11"]).unwrap();
        let c = bare.connect.unwrap();
        assert_eq!((c.vid, c.pid), (Some(0x0483), Some(0xdf11)));
        assert_eq!(
            p(&["-c", "port=USB1", "VID=0x10000"]).unwrap_err(),
            "Error: VID=0x10000: not a USB id (4 hex digits, such as 0x0483)"
        );
        assert!(a.quiet);
        assert_eq!(
            a.ops,
            vec![
                Op::Download {
                    file: "x.bin".into(),
                    address: Some(0x0800_0000)
                },
                Op::Start(Some(0x0800_0000))
            ]
        );
        let a = p(&[
            "-c",
            "port=USB1",
            "--erase all",
            "-q -d",
            "my fw.bin",
            "0x8000000",
            "-s",
        ])
        .unwrap();
        assert_eq!(a.ops[0], Op::Erase(Erase::All));
        assert_eq!(a.ops[2], Op::Start(None));
        let a = p(&[
            "--connect",
            "port=usb1 freq=4000 reset=hw",
            "-c",
            "-c",
            "port=USB",
            "sn=",
        ])
        .unwrap();
        assert_eq!(a.connect.unwrap(), Connect::default());
        assert_eq!(
            p(&["-e", "[0", "3]"]).unwrap().ops,
            vec![Op::Erase(Erase::Sectors(vec![0, 1, 2, 3]))]
        );
        assert_eq!(
            p(&["-e", "[2 3]", "-v"]).unwrap().ops[0],
            Op::Erase(Erase::Sectors(vec![2, 3]))
        );
        assert_eq!(
            p(&["-e", "5", "7"]).unwrap().ops,
            vec![Op::Erase(Erase::Sectors(vec![5, 7]))]
        );
    }

    #[test]
    fn an_erase_range_past_any_flash_or_reversed_is_refused_before_it_is_spelled_out() {
        let e = |w: &str| p(&["-c", "port=USB1", "-e", w]).unwrap_err();
        assert_eq!(
            e("[0 0xFFFFFFFF]"),
            "Error: --erase [0 4294967295] names 4294967296 sectors; no flash has more than 65536"
        );
        assert_eq!(
            e("[5 2]"),
            "Error: --erase [5 2]: the range is reversed; give [2 5]"
        );
        let ok = p(&["-c", "port=USB1", "-e", "[0 65535]"]).unwrap().ops;
        assert!(matches!(&ok[..], [Op::Erase(Erase::Sectors(s))] if s.len() == 65536));
    }

    #[test]
    fn what_is_not_supported_is_refused() {
        let refused = |args: &[&str]| p(args).unwrap_err();
        assert!(refused(&["-c", "port=SWD"]).contains("port=SWD is not supported"));
        assert!(refused(&["-ob", "RDP=0xBB"]).contains("-ob (option bytes by name)"));
        assert_eq!(
            p(&["-c", "port=USB1", "-d", "FlashLayout.tsv"])
                .unwrap()
                .ops,
            vec![Op::Layout {
                file: "FlashLayout.tsv".into()
            }]
        );
        assert!(refused(&["-l", "st-link"]).contains("listing st-link"));
        assert!(refused(&["-c"]).contains("needs port=USB1"));
    }
}
