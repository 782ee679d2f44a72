//! Whether the process behind an instance on this machine still runs. A process id alone says little: it is
//! reused once the process is gone, and it means something only in its kernel's boot and its pid namespace
//! (containers sharing a host name may not share pids). So an instance records its process as the boot id,
//! the pid namespace and the start time in clock ticks since boot; another process of the same boot and
//! namespace can then tell for sure that it died. Elsewhere, and off Linux, only the heartbeat tells.

use crate::store::{ProcessIdentity, Store, StoreResult};

/// Marks dead every instance still counted live whose process ran beside `owner`'s (same boot and pid namespace)
/// and is gone, so that the next claim takes its deliveries over as it takes a silent instance's, with the same
/// fencing. How many it found.
pub async fn find_gone_neighbours(store: &Store, owner: &str, timeout_ms: i64) -> StoreResult<usize> {
    if !cfg!(target_os = "linux") {
        return Ok(0);
    }
    let mut found = 0;
    for n in store.neighbours(owner, timeout_ms).await? {
        if liveness(n.pid, n.start_ticks) == Liveness::Gone && store.found_dead(&n.id).await? {
            tracing::warn!(
                instance = %n.id,
                pid = n.pid,
                "the process of an instance on this machine is gone: its deliveries are taken over now"
            );
            found += 1;
        }
    }
    Ok(found)
}

/// What looking at a process id on this machine says about the process that registered with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Liveness {
    /// Still running (or it cannot be told: a process we may not look at).
    Running,
    /// Gone: no such process, a zombie, or another process that started later under the same id.
    Gone,
}

/// This process as other processes of this machine can recognise it; none off Linux or without /proc.
pub fn own_identity() -> Option<ProcessIdentity> {
    imp::own_identity()
}

/// Whether the process `pid` that started at `start_ticks` (of this boot and pid namespace) still runs.
pub fn liveness(pid: i64, start_ticks: i64) -> Liveness {
    imp::liveness(pid, start_ticks)
}

#[cfg(target_os = "linux")]
mod imp {
    use super::Liveness;
    use crate::store::ProcessIdentity;

    pub fn own_identity() -> Option<ProcessIdentity> {
        let boot_id = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
        let pid_ns = std::fs::read_link("/proc/self/ns/pid").ok()?;
        let (_, start_ticks) = parse_stat(&std::fs::read_to_string("/proc/self/stat").ok()?)?;
        Some(ProcessIdentity {
            boot_id: boot_id.trim().to_owned(),
            pid_ns: pid_ns.to_string_lossy().into_owned(),
            start_ticks,
        })
    }

    pub fn liveness(pid: i64, start_ticks: i64) -> Liveness {
        // 0 and negative ids name process groups for kill(2), never one process.
        let Ok(pid) = libc::pid_t::try_from(pid) else {
            return Liveness::Running;
        };
        if pid <= 0 {
            return Liveness::Running;
        }
        // Signal 0 checks existence only. /proc alone could mislead: mounted with hidepid, it hides other
        // users' processes, which would look gone.
        // SAFETY: kill with signal 0 sends nothing and touches no memory of ours.
        if unsafe { libc::kill(pid, 0) } != 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH) {
            return Liveness::Gone;
        }
        match std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .as_deref()
            .and_then(parse_stat)
        {
            // A zombie (Z) or dying (X, x) process is gone, though kill(pid, 0) still finds it.
            Some(('Z' | 'X' | 'x', _)) => Liveness::Gone,
            Some((_, started)) if started != start_ticks => Liveness::Gone,
            // The same process, or one we may not look at: the heartbeat decides.
            _ => Liveness::Running,
        }
    }

    /// The state (field 3) and start time (field 22) of a `/proc/PID/stat` line. The command name (field 2)
    /// may hold spaces and parentheses, so fields are counted after its last `)`.
    pub(super) fn parse_stat(stat: &str) -> Option<(char, i64)> {
        let (_, rest) = stat.rsplit_once(')')?;
        let mut fields = rest.split_whitespace();
        let state = fields.next()?.chars().next()?;
        let start = fields.nth(18)?.parse().ok()?;
        Some((state, start))
    }
}

#[cfg(not(target_os = "linux"))]
mod imp {
    use super::Liveness;
    use crate::store::ProcessIdentity;

    pub fn own_identity() -> Option<ProcessIdentity> {
        None
    }

    pub fn liveness(_pid: i64, _start_ticks: i64) -> Liveness {
        Liveness::Running
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    fn own() -> ProcessIdentity {
        own_identity().expect("Linux has /proc")
    }

    #[test]
    fn the_stat_line_is_read_after_the_command_name() {
        let line = "4242 (a) b (c)) S 1 4242 4242 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 987654 1000 100";
        assert_eq!(imp::parse_stat(line), Some(('S', 987654)));
        assert_eq!(imp::parse_stat("4242 (cut"), None);
        assert_eq!(imp::parse_stat("4242 (short) S 1 2"), None);
    }

    #[test]
    fn this_process_runs() {
        let me = own();
        assert!(!me.boot_id.is_empty() && me.pid_ns.starts_with("pid:["), "{me:?}");
        assert_eq!(
            liveness(i64::from(std::process::id()), me.start_ticks),
            Liveness::Running
        );
    }

    #[test]
    fn a_process_id_taken_by_a_later_process_is_gone() {
        let me = own();
        assert_eq!(
            liveness(i64::from(std::process::id()), me.start_ticks - 1),
            Liveness::Gone
        );
    }

    #[test]
    fn an_exited_process_is_gone_even_before_it_is_reaped() {
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .expect("spawn sleep");
        let pid = i64::from(child.id());
        let started = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .as_deref()
            .and_then(imp::parse_stat)
            .expect("the child's stat")
            .1;
        assert_eq!(liveness(pid, started), Liveness::Running);
        child.kill().expect("kill -9");
        // A zombie until reaped: kill(pid, 0) still succeeds, the state says it is dead.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while liveness(pid, started) == Liveness::Running {
            assert!(std::time::Instant::now() < deadline, "the killed child still runs");
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        child.wait().expect("reap");
        assert_eq!(liveness(pid, started), Liveness::Gone);
    }

    #[test]
    fn ids_that_name_groups_are_never_judged() {
        assert_eq!(liveness(0, 1), Liveness::Running);
        assert_eq!(liveness(-1, 1), Liveness::Running);
        assert_eq!(liveness(i64::MAX, 1), Liveness::Running);
    }
}
