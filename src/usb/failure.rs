//! What a failed transfer means. A transfer in flight when the board is unplugged fails with
//! whatever the host stack saw first: a stall (PIPE), an I/O error or "no device", depending on
//! timing. So before a failure is named, the device is asked a standard GET_STATUS (a request
//! no DFU state machine sees): a device that is gone is reported as disconnected.

use std::time::Duration;

use crate::transport::TransportError;

/// How often the device is asked whether it is still there, and how long apart.
const PROBES: u32 = 3;
const PROBE_GAP: Duration = Duration::from_millis(50);

/// libusb's error as the transport's, without asking the device anything.
pub fn as_transfer_error(e: rusb::Error, timeout: Duration) -> TransportError {
    match e {
        rusb::Error::NoDevice => TransportError::Disconnected,
        rusb::Error::Pipe => TransportError::Stall,
        rusb::Error::Timeout => TransportError::Timeout(timeout),
        rusb::Error::Overflow => TransportError::Overflow,
        e => TransportError::Other(e.to_string()),
    }
}

/// Names a failed transfer: `probe` asks the device a standard GET_STATUS, `pause` waits
/// between probes. Any answer means the device is there and the failure stands as it was;
/// "no device", or no answer to any probe, means it is gone.
pub fn classify(
    e: rusb::Error,
    timeout: Duration,
    mut probe: impl FnMut() -> Result<(), rusb::Error>,
    mut pause: impl FnMut(Duration),
) -> TransportError {
    let as_is = as_transfer_error(e, timeout);
    // "No device" needs no probe; a device that holds a transfer (an ST ROM erasing inside a
    // GETSTATUS) answers no probe either, so a timeout stays a timeout.
    if matches!(
        as_is,
        TransportError::Disconnected | TransportError::Timeout(_) | TransportError::Overflow
    ) {
        return as_is;
    }
    for n in 0..PROBES {
        match probe() {
            Ok(()) => return as_is,
            Err(rusb::Error::NoDevice) => return TransportError::Disconnected,
            Err(_) if n + 1 < PROBES => pause(PROBE_GAP),
            Err(_) => {}
        }
    }
    TransportError::Disconnected
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(e: rusb::Error, answers: &[Result<(), rusb::Error>]) -> (TransportError, usize) {
        let mut asked = 0;
        let t = classify(
            e,
            Duration::from_secs(1),
            || {
                asked += 1;
                answers[(asked - 1).min(answers.len() - 1)]
            },
            |_| {},
        );
        (t, asked)
    }

    #[test]
    fn a_stall_from_a_board_that_was_unplugged_is_a_disconnect() {
        use rusb::Error::*;
        assert_eq!(
            run(Pipe, &[Err(NoDevice)]),
            (TransportError::Disconnected, 1)
        );
        assert_eq!(run(Pipe, &[Err(Io)]), (TransportError::Disconnected, 3));
        assert_eq!(run(Io, &[Err(Timeout)]), (TransportError::Disconnected, 3));
    }

    #[test]
    fn a_board_that_still_answers_keeps_the_failure_it_had() {
        use rusb::Error::*;
        assert_eq!(run(Pipe, &[Ok(())]), (TransportError::Stall, 1));
        assert_eq!(run(Pipe, &[Err(Io), Ok(())]), (TransportError::Stall, 2));
        assert_eq!(
            run(Timeout, &[Err(NoDevice)]),
            (TransportError::Timeout(Duration::from_secs(1)), 0)
        );
        assert_eq!(
            run(Io, &[Ok(())]),
            (TransportError::Other("Input/Output Error".into()), 1)
        );
        assert_eq!(run(NoDevice, &[Ok(())]), (TransportError::Disconnected, 0));
    }
}
