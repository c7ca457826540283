//! The driver Windows bound to a device, and what to do about it. libusb opens a device on
//! Windows only through WinUSB (or libusbK, libusb0), and Windows never binds WinUSB to an ST
//! ROM by itself: it is usually bound to ST's old DfuSe driver (STTub30) or to
//! STM32CubeProgrammer's driver. dfu-util then says only "Cannot open DFU device 0483:df11";
//! this names the driver and the fix.

/// Drivers through which libusb opens a device on Windows.
const LIBUSB_DRIVERS: &[&str] = &["winusb", "libusbk", "libusb0"];

/// What stops libusb from opening a device bound to `service` (None: no driver at all), with
/// what to do; None when libusb can use the driver. `name` is how Zadig lists the device.
pub fn advice(service: Option<&str>, vid: u16, pid: u16, name: Option<&str>) -> Option<String> {
    let select = match (vid, pid, name) {
        (0x0483, 0xdf11, _) => "\"DFU in FS Mode\"".to_string(),
        (_, _, Some(n)) if !n.is_empty() => format!("\"{n}\""),
        _ => format!("the device {vid:04X} {pid:04X}"),
    };
    let fix = format!(
        "libusb needs WinUSB: install it for {vid:04x}:{pid:04x} with Zadig (Options → List All \
         Devices, select {select}, WinUSB, Replace Driver)"
    );
    let service = service.map(str::trim).filter(|s| !s.is_empty());
    let bound = match service {
        None => return Some(format!("has no driver; {fix}")),
        Some(s) if LIBUSB_DRIVERS.contains(&s.to_ascii_lowercase().as_str()) => return None,
        Some(s) if s.eq_ignore_ascii_case("sttub30") => "STTub30 (ST's DfuSe driver)".to_string(),
        Some(s) if s.to_ascii_lowercase().contains("stm32bootloader") => {
            format!("{s} (STM32CubeProgrammer's driver)")
        }
        Some(s) => s.to_string(),
    };
    Some(format!("bound to {bound}; {fix}"))
}

/// The service (driver) Windows bound to the first present USB device with these ids: Some(None)
/// when it has none, None when no such device is present. Through SetupAPI.
#[cfg(windows)]
pub fn bound_service(vid: u16, pid: u16) -> Option<Option<String>> {
    use windows_sys::Win32::Devices::DeviceAndDriverInstallation::{
        SetupDiDestroyDeviceInfoList, SetupDiEnumDeviceInfo, SetupDiGetClassDevsW,
        SetupDiGetDeviceRegistryPropertyW, DIGCF_ALLCLASSES, DIGCF_PRESENT, SPDRP_HARDWAREID,
        SPDRP_SERVICE, SP_DEVINFO_DATA,
    };

    let wanted = format!("USB\\VID_{vid:04X}&PID_{pid:04X}");
    let enumerator: Vec<u16> = "USB\0".encode_utf16().collect();
    // SAFETY: every buffer passed is sized as the call is told; the set is destroyed below.
    unsafe {
        let set = SetupDiGetClassDevsW(
            std::ptr::null(),
            enumerator.as_ptr(),
            std::ptr::null_mut(),
            DIGCF_ALLCLASSES | DIGCF_PRESENT,
        );
        if set == -1 {
            return None;
        }
        let property = |data: &SP_DEVINFO_DATA, which| -> Option<String> {
            let mut buf = [0u16; 512];
            let ok = SetupDiGetDeviceRegistryPropertyW(
                set,
                data,
                which,
                std::ptr::null_mut(),
                buf.as_mut_ptr().cast(),
                (buf.len() * 2) as u32,
                std::ptr::null_mut(),
            );
            // REG_SZ or REG_MULTI_SZ: the first string is enough.
            (ok != 0).then(|| {
                let end = buf.iter().position(|c| *c == 0).unwrap_or(buf.len());
                String::from_utf16_lossy(&buf[..end])
            })
        };
        let mut found = None;
        let mut i = 0;
        loop {
            let mut data = SP_DEVINFO_DATA {
                cbSize: std::mem::size_of::<SP_DEVINFO_DATA>() as u32,
                ..Default::default()
            };
            if SetupDiEnumDeviceInfo(set, i, &mut data) == 0 {
                break;
            }
            i += 1;
            let ids = property(&data, SPDRP_HARDWAREID).unwrap_or_default();
            if ids.to_ascii_uppercase().starts_with(&wanted) {
                found = Some(property(&data, SPDRP_SERVICE));
                break;
            }
        }
        SetupDiDestroyDeviceInfoList(set);
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_st_rom_bound_to_st_s_drivers_gets_the_zadig_steps() {
        assert_eq!(
            advice(Some("STTub30"), 0x0483, 0xdf11, Some("STM32  BOOTLOADER")).unwrap(),
            "bound to STTub30 (ST's DfuSe driver); libusb needs WinUSB: install it for 0483:df11 \
             with Zadig (Options → List All Devices, select \"DFU in FS Mode\", WinUSB, Replace Driver)"
        );
        let cube = advice(Some("STM32Bootloader"), 0x0483, 0xdf11, None).unwrap();
        assert!(cube.starts_with(
            "bound to STM32Bootloader (STM32CubeProgrammer's driver); libusb needs WinUSB"
        ));
    }

    #[test]
    fn libusb_s_own_drivers_need_nothing_and_a_missing_driver_is_said() {
        for ok in ["WinUSB", "winusb", "libusbK", "libusb0"] {
            assert_eq!(advice(Some(ok), 0x0483, 0xdf11, None), None, "{ok}");
        }
        assert!(advice(None, 0x2341, 0x035b, Some("Portenta H7"))
            .unwrap()
            .starts_with("has no driver; libusb needs WinUSB: install it for 2341:035b with Zadig (Options → List All Devices, select \"Portenta H7\""));
        assert!(advice(Some(" "), 0x1209, 0xdf12, None)
            .unwrap()
            .contains("select the device 1209 DF12"));
        assert!(advice(Some("usbccgp"), 0x1209, 0xdf12, None)
            .unwrap()
            .starts_with("bound to usbccgp; libusb needs WinUSB"));
    }
}
