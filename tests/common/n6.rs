//! STM32N6 FlashLayout.tsv fixtures: OpenMV's three rows with stand-in binaries.

use std::path::{Path, PathBuf};

use dfuflash::flashlayout::{header, FlashLayout};
use dfuflash::protocol::{Dfu, EngineOptions};
use dfuflash::sim::SimDevice;

use super::liar::Liar;

use super::pattern;

/// A fresh directory for one test of the layout tests.
pub fn tmp(name: &str) -> PathBuf {
    super::cli::tmp("flash_layout", name)
}

pub struct Files {
    pub dir: PathBuf,
    pub obl: Vec<u8>,
    pub loader: Vec<u8>,
    pub app: Vec<u8>,
}

/// OpenMV's three rows (seven columns, a comment line, no final line feed), with stand-ins.
pub fn openmv(name: &str, app_len: usize) -> Files {
    let dir = tmp(name);
    let obl = header::fsbl_v2_3(&pattern(0x2000, 1), 0x3418_9da1);
    let loader = pattern(7880, 2);
    let app = pattern(app_len, 3);
    std::fs::write(dir.join("obl.stm32"), &obl).unwrap();
    std::fs::write(dir.join("loader.bin"), &loader).unwrap();
    std::fs::write(dir.join("bootloader.bin"), &app).unwrap();
    write_tsv(
        &dir,
        "#Opt\tId\tName\tType\tIP\tOffset\tBinary\n\
         P\t0x1\tfsbl-openbl\tBinary\tnone\t0x0\tobl.stm32\n\
         P\t0x3\tfsbl-extfl\tBinary\tnone\t0x0\tloader.bin\n\
         P\t0x4\tfsbl-app\tBinary\tnor0\t0x0000000\tbootloader.bin",
    );
    Files {
        dir,
        obl,
        loader,
        app,
    }
}

pub fn write_tsv(dir: &Path, text: &str) -> PathBuf {
    let p = dir.join("FlashLayout.tsv");
    std::fs::write(&p, text).unwrap();
    p
}

pub fn load(dir: &Path) -> FlashLayout {
    FlashLayout::load(&dir.join("FlashLayout.tsv")).unwrap()
}

/// The N6 with every GetPhase reply passed through `lie`.
pub fn lying_n6(lie: fn(&mut Vec<u8>)) -> Dfu<Liar> {
    let liar = Liar::new(
        SimDevice::new("stm32n6").unwrap(),
        Box::new(move |x| {
            if let (2, Ok(bytes)) = (x.request, &mut x.reply) {
                lie(bytes);
            }
        }),
    );
    Dfu::open(liar, 0, EngineOptions::default()).unwrap()
}
