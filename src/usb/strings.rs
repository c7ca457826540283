//! A device's string descriptors (its names, serial and alt-setting layouts), read within one
//! budget for the whole device: a device that answers slowly or not at all cannot hold a
//! listing (`--watch` lists every few hundred milliseconds), and is reported as not described.

use std::time::Duration;

/// The most time one device's strings may take, all of them together.
pub const DESCRIBE_BUDGET: Duration = Duration::from_secs(2);

/// The USB timeout of one string request.
pub const STRING_TIMEOUT: Duration = Duration::from_millis(500);

/// The strings at `indices` (None: the descriptor names none), read by `read(index, timeout)`
/// within `budget` on the clock `now`; what could not be read is None. The second value says
/// why the description is incomplete, when it is.
pub fn read_within<E: std::fmt::Display>(
    indices: &[Option<u8>],
    budget: Duration,
    now: impl Fn() -> Duration,
    mut read: impl FnMut(u8, Duration) -> Result<String, E>,
) -> (Vec<Option<String>>, Option<String>) {
    let start = now();
    let mut out = Vec::with_capacity(indices.len());
    let mut failed = 0usize;
    let mut skipped = 0usize;
    let mut last_error = None;
    for index in indices {
        let Some(i) = *index else {
            out.push(None);
            continue;
        };
        let left = budget.saturating_sub(now().saturating_sub(start));
        if left.is_zero() {
            skipped += 1;
            out.push(None);
            continue;
        }
        match read(i, STRING_TIMEOUT.min(left)) {
            Ok(s) => out.push(Some(s)),
            Err(e) => {
                failed += 1;
                last_error = Some(e.to_string());
                out.push(None);
            }
        }
    }
    let problem = match (failed, skipped) {
        (0, 0) => None,
        (f, 0) => Some(format!(
            "{f} string descriptor(s) could not be read ({})",
            last_error.unwrap_or_default()
        )),
        (f, s) => Some(format!(
            "not described: {s} string descriptor(s) left unread after {:.1} s, {f} failed ({}); the device answers string requests slowly or not at all",
            budget.as_secs_f64(),
            last_error.as_deref().unwrap_or("no answer in time")
        )),
    };
    (out, problem)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[test]
    fn a_device_whose_255_alt_names_time_out_is_given_up_on_after_the_budget() {
        let clock = Cell::new(Duration::ZERO);
        let mut indices = vec![Some(1), Some(2), Some(3)];
        indices.extend((4..=255u8).chain(0..3).map(Some));
        let mut asked = 0;
        let (strings, problem) = read_within(
            &indices,
            DESCRIBE_BUDGET,
            || clock.get(),
            |i, timeout| {
                asked += 1;
                if i <= 3 {
                    clock.set(clock.get() + Duration::from_millis(1));
                    return Ok(format!("string {i}"));
                }
                // Every alt name times out: the request takes its whole timeout.
                clock.set(clock.get() + timeout);
                Err("Operation timed out")
            },
        );
        assert_eq!(
            strings[..3],
            [
                Some("string 1".into()),
                Some("string 2".into()),
                Some("string 3".into())
            ]
        );
        assert!(strings[3..].iter().all(Option::is_none));
        // Four 500 ms timeouts fill the 2 s budget; nothing more is asked.
        assert_eq!(asked, 3 + 4);
        assert!(clock.get() <= DESCRIBE_BUDGET + Duration::from_millis(3));
        let problem = problem.unwrap();
        assert!(
            problem.starts_with("not described: 251 string descriptor(s) left unread after 2.0 s, 4 failed (Operation timed out)"),
            "{problem}"
        );
    }

    #[test]
    fn a_device_that_answers_is_fully_described() {
        let (strings, problem) = read_within(
            &[Some(1), None, Some(2)],
            DESCRIBE_BUDGET,
            || Duration::ZERO,
            |i, _| Ok::<_, String>(format!("s{i}")),
        );
        assert_eq!(strings, [Some("s1".into()), None, Some("s2".into())]);
        assert_eq!(problem, None);
    }
}
