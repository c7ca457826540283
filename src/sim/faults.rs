//! Faults to inject into a simulated device, each at a request number, and their
//! `KIND@N,...` text form.

use crate::protocol::Status;

/// Faults to inject, each at a 1-based request number.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Faults {
    /// The device vanishes at this request (it and every later one fail).
    pub disconnect_at: Option<u64>,
    /// This request is stalled.
    pub stall_at: Option<u64>,
    /// This request times out.
    pub timeout_at: Option<u64>,
    /// The device fails with this status at this request (the reply, or the next GETSTATUS,
    /// reports it with dfuERROR; an UPLOAD is stalled).
    pub status_at: Option<(u64, Status)>,
    /// Power fails at this request: a write executing in it keeps half its bytes, then the
    /// device is gone.
    pub power_loss_at: Option<u64>,
    /// A lying Rev V ROM: a wedged erase never erases anything, yet the recovery pair succeeds.
    pub wedge_no_erase: bool,
    /// The simulator itself panics at this request (to test that callers contain panics).
    pub panic_at: Option<u64>,
    /// The host process ends at this request as SIGKILL would (exit status 137), the device
    /// saved as it is at that moment (a wedged erase included) to its state file, if it has
    /// one. For the command: a library caller's process ends too.
    pub host_exit_at: Option<u64>,
}

impl Faults {
    /// Parses `KIND@N[,KIND@N...]` where KIND is disconnect, stall, timeout, power-loss,
    /// wedge-no-erase, panic, host-exit or status=NAME (errTARGET, errVENDOR, errPROG, ... or a
    /// number).
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut f = Faults::default();
        for part in text.split(',').filter(|p| !p.is_empty()) {
            let (kind, n) = part
                .split_once('@')
                .ok_or_else(|| format!("fault {part:?}: expected KIND@REQUEST"))?;
            let n: u64 = n
                .parse()
                .map_err(|_| format!("fault {part:?}: {n:?} is not a request number"))?;
            match kind {
                "disconnect" => f.disconnect_at = Some(n),
                "stall" => f.stall_at = Some(n),
                "timeout" => f.timeout_at = Some(n),
                "power-loss" => f.power_loss_at = Some(n),
                "wedge-no-erase" => f.wedge_no_erase = n > 0,
                "panic" => f.panic_at = Some(n),
                "host-exit" => f.host_exit_at = Some(n),
                k if k.starts_with("status=") => {
                    let name = &k[7..];
                    let status = (0..=255u8)
                        .map(Status::from_u8)
                        .find(|s| s.describe().split(' ').next() == Some(name))
                        .or_else(|| name.parse::<u8>().ok().map(Status::from_u8))
                        .ok_or_else(|| format!("fault {part:?}: unknown status {name:?}"))?;
                    f.status_at = Some((n, status));
                }
                _ => return Err(format!("fault {part:?}: kind must be disconnect, stall, timeout, power-loss, wedge-no-erase, panic, host-exit or status=NAME")),
            }
        }
        Ok(f)
    }
}
