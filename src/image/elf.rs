//! ELF files: loadable segments (PT_LOAD) at their physical addresses (LMA), only the bytes the
//! file holds (p_filesz); segments that load nothing are skipped. An ELF without program
//! headers (a relocatable object, as `objcopy -I binary` makes) falls back to its allocated
//! sections that hold data.

use object::elf::{PT_LOAD, SHF_ALLOC};
use object::read::elf::{ElfFile, FileHeader, ProgramHeader};
use object::{Endianness, Object, ObjectSection, SectionFlags, SectionKind};

use super::{Builder, FormatError};

/// Whether the data starts like an ELF file.
pub fn detect(data: &[u8]) -> bool {
    data.starts_with(b"\x7fELF")
}

/// Reads an ELF file into one target for alt setting 0.
pub fn read(data: &[u8], name: &str) -> Result<super::Image, FormatError> {
    match object::FileKind::parse(data) {
        Ok(object::FileKind::Elf32) => read_as::<object::elf::FileHeader32<Endianness>>(data, name),
        Ok(object::FileKind::Elf64) => read_as::<object::elf::FileHeader64<Endianness>>(data, name),
        Ok(_) | Err(_) => Err(FormatError::Elf {
            file: name.into(),
            detail: "not a 32- or 64-bit ELF file".into(),
        }),
    }
}

fn read_as<E: FileHeader<Endian = Endianness>>(
    data: &[u8],
    name: &str,
) -> Result<super::Image, FormatError> {
    let bad = |detail: String| FormatError::Elf {
        file: name.into(),
        detail,
    };
    let f = ElfFile::<E>::parse(data).map_err(|e| bad(e.to_string()))?;
    let endian = f.endian();
    let mut b = Builder::new(name, data.len() as u64);
    for (i, ph) in f.elf_program_headers().iter().enumerate() {
        let filesz: u64 = ph.p_filesz(endian).into();
        if ph.p_type(endian) != PT_LOAD || filesz == 0 {
            continue;
        }
        let paddr: u64 = ph.p_paddr(endian).into();
        let bytes = ph.data(endian, data).map_err(|_| {
            bad(format!(
                "program header {i}: its {filesz} bytes lie outside the file"
            ))
        })?;
        b.push(paddr, bytes)?;
    }
    if b.is_empty() {
        for s in f.sections() {
            let alloc = matches!(s.flags(), SectionFlags::Elf { sh_flags } if sh_flags & SHF_ALLOC as u64 != 0);
            if !alloc || s.kind() == SectionKind::UninitializedData || s.size() == 0 {
                continue;
            }
            let bytes = s
                .data()
                .map_err(|e| bad(format!("section {}: {e}", s.name().unwrap_or("?"))))?;
            b.push(s.address(), bytes)?;
        }
    }
    if b.is_empty() {
        return Err(bad(
            "no loadable segment or allocated section holds any bytes".into(),
        ));
    }
    b.finish()
}
