//! What a layout job refuses, and when: rows the TSV does not let it write, partitions over
//! each other, binaries it cannot read, and a device that ends before asking for every row.

use dfuflash::flashlayout::{FlashLayoutError, TsvError};
use dfuflash::job::{flash_layout, LayoutOptions, LayoutReport};
use dfuflash::progress::{CancelToken, Silent};
use dfuflash::protocol::{Dfu, EngineOptions};
use dfuflash::sim::{Op, SimDevice};
use dfuflash::transport::Transport;
use dfuflash::Error;

mod common;

use common::n6::{load, lying_n6, openmv, write_tsv};

const ROWS: &str = "P\t0x1\tfsbl-openbl\tBinary\tnone\t0x0\tobl.stm32\n\
                    P\t0x3\tfsbl-extfl\tBinary\tnone\t0x0\tloader.bin\n";

fn run<T: Transport>(dfu: &mut Dfu<T>, dir: &std::path::Path) -> Result<LayoutReport, Error> {
    let c = CancelToken::new();
    flash_layout(dfu, &load(dir), &LayoutOptions::default(), &mut Silent, &c)
}

fn n6() -> Dfu<SimDevice> {
    Dfu::open(
        SimDevice::new("stm32n6").unwrap(),
        0,
        EngineOptions::default(),
    )
    .unwrap()
}

fn downloads(dev: &SimDevice) -> usize {
    let d = dev.transcript().iter();
    d.filter(|r| matches!(r.op, Op::Dnload { .. })).count()
}

#[test]
fn a_binary_that_runs_into_the_next_partition_is_refused_before_any_request() {
    let f = openmv("overlap", 0x1001);
    std::fs::write(f.dir.join("other.bin"), [7u8; 10]).unwrap();
    write_tsv(
        &f.dir,
        &format!(
            "{ROWS}P\t0x4\tfsbl-app\tBinary\tnor0\t0x0\tbootloader.bin\n\
             P\t0x5\tfsbl-y\tBinary\tnor0\t0x1000\tother.bin\n"
        ),
    );
    let mut dfu = n6();
    match run(&mut dfu, &f.dir).unwrap_err() {
        Error::FlashLayout(FlashLayoutError::Tsv(e @ TsvError::Field { line: 4, .. })) => {
            assert!(
                e.to_string().ends_with(
                    ": column Offset: fsbl-y: fsbl-y at 0x1000 of nor0 lies inside fsbl-app \
                     (line 3, 0x0..0x1001); partitions of one memory must not overlap"
                ),
                "{e}"
            );
        }
        e => panic!("{e}"),
    }
    assert_eq!(downloads(dfu.transport()), 0);
}

#[test]
fn a_dash_row_on_a_memory_is_never_written_even_when_the_device_asks_for_it() {
    let f = openmv("dash", 3000);
    write_tsv(
        &f.dir,
        &format!("{ROWS}-\t0x4\tfsbl-app\tBinary\tnor0\t0x0\tbootloader.bin\n"),
    );
    let mut dfu = n6();
    let e = run(&mut dfu, &f.dir).unwrap_err();
    assert!(
        matches!(
            &e,
            Error::FlashLayout(FlashLayoutError::PhaseEmpty { phase: 4, name }) if name == "fsbl-app"
        ),
        "{e}"
    );
    let n6 = dfu.transport().n6().unwrap();
    assert_eq!(n6.nor(0, 3000), vec![0xff; 3000]);
}

#[test]
fn a_device_that_ends_before_asking_for_every_row_fails_and_names_them() {
    let f = openmv("early", 3000);
    // The OpenBootloader says END where it would ask for OpenMV's bootloader.
    let mut dfu = lying_n6(|b| {
        if b[0] == 0x04 {
            b[0] = 0xfe;
        }
    });
    let e = run(&mut dfu, &f.dir).unwrap_err();
    assert_eq!(
        e.to_string(),
        "the device reported the end (phase 0xFE) before it asked for fsbl-app; they were not \
         written, check that the layout is for this board and its boot stages"
    );
}

#[test]
fn a_binary_that_is_not_a_regular_file_is_refused_by_its_line() {
    let f = openmv("notfile", 100);
    std::fs::remove_file(f.dir.join("bootloader.bin")).unwrap();
    std::fs::create_dir(f.dir.join("bootloader.bin")).unwrap();
    let mut dfu = n6();
    let e = run(&mut dfu, &f.dir).unwrap_err();
    assert!(
        matches!(
            &e,
            Error::FlashLayout(FlashLayoutError::Tsv(TsvError::Io { .. }))
        ),
        "{e}"
    );
    let m = e.to_string();
    assert!(
        m.contains("FlashLayout.tsv:4: column Binary: cannot read "),
        "{m}"
    );
    assert!(m.ends_with("bootloader.bin: not a regular file"), "{m}");
    assert_eq!(downloads(dfu.transport()), 0);
}
