//! `dfuflash pack`: merge images of any format into one DfuSe file.

use dfuflash::image::{self, dfuse, Format, Image, LoadOptions, Target};

use crate::args::{parse_u32, PackArgs};
use crate::commands::inspect::{describe_image, print_image};
use crate::hints;

pub fn run(args: PackArgs) -> Result<(), String> {
    let PackArgs {
        device,
        bcd_device,
        alt,
        name,
        output,
        json,
        inputs,
    } = args;
    let mut targets: Vec<Target> = Vec::new();
    for input in &inputs {
        let img = load_input(input, alt)?;
        for t in img.targets {
            match targets.iter_mut().find(|x| x.alt == t.alt) {
                Some(x) => x.segments.extend(t.segments),
                None => targets.push(t),
            }
        }
    }
    if name.is_some() {
        for t in &mut targets {
            t.name = name.clone();
        }
    }
    let img = Image::new(targets).map_err(|e| format!("cannot pack {}: {e}", inputs.join(" ")))?;
    let file = dfuse::write(&img, device.0, device.1, bcd_device);
    std::fs::write(&output, &file)
        .map_err(|e| format!("cannot write {}: {e}", output.display()))?;
    let (_, written) = image::load(&output, &LoadOptions::default()).map_err(|e| e.to_string())?;
    if json {
        println!("{}", describe_image(Some(Format::Dfuse), &written));
    } else {
        print_image(Some(Format::Dfuse), &written);
        eprintln!("wrote {} ({} bytes)", output.display(), file.len());
    }
    Ok(())
}

/// One `pack` input: a file of any format, or `ADDR[@ALT]:file.bin`.
fn load_input(input: &str, default_alt: u8) -> Result<Image, String> {
    let as_file = std::path::Path::new(input);
    if !as_file.exists() {
        if let Some((addr, path)) = input.split_once(':') {
            let (addr, alt) = match addr.split_once('@') {
                Some((a, alt)) => (
                    a,
                    alt.parse::<u8>()
                        .map_err(|_| format!("{input}: {alt:?} is not an alt setting number"))?,
                ),
                None => (addr, default_alt),
            };
            let mut opts = LoadOptions::default();
            opts.address = Some(parse_u32(addr).map_err(|e| format!("{input}: {e}"))?);
            opts.alt = alt;
            return image::load(std::path::Path::new(path), &opts)
                .map(|(_, i)| i)
                .map_err(|e| hints::pack_message(&e));
        }
    }
    let mut opts = LoadOptions::default();
    opts.alt = default_alt;
    image::load(as_file, &opts)
        .map(|(_, i)| i)
        .map_err(|e| hints::pack_message(&e))
}
