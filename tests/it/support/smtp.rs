//! Scripted in-process SMTP server for integration tests.
//!
//! The reply to each recipient is chosen by the local part of its address
//! (prefix match, ASCII case-insensitive), so a single recipient list can
//! produce every fault the delivery code must handle:
//!
//! | local part starts with | behaviour                                                     |
//! |------------------------|---------------------------------------------------------------|
//! | `tempfail`             | RCPT TO → `451 4.3.0 Try again later`                         |
//! | `flaky`                | first RCPT TO of this address (per server) → 451, later → 250 |
//! | `reject`               | RCPT TO → `550 5.1.1 No such user`                            |
//! | `nouser`               | RCPT TO → `550 No such user here` (no enhanced status code)   |
//! | `denied`               | RCPT TO → 250, end of DATA → `554 5.7.1 Message refused`      |
//! | `drop`                 | connection closed right after RCPT TO is read, no reply       |
//! | `slow`                 | end-of-DATA reply delayed (2 s by default), then 250          |
//! | anything else          | 250                                                           |
//!
//! [`TestSmtp::refuse_relay`] makes every RCPT TO answer `550 5.7.1 Relaying denied` until it is turned
//! off; a sender whose local part starts with `badsender` gets `553 5.7.1 Sender address rejected` at MAIL
//! FROM; [`TestSmtp::drop_connections`] closes every open connection as a server does with idle ones.
//!
//! With several recipients in one transaction, `slow` delays the end-of-DATA
//! reply and `denied` refuses the whole message (after the delay, if both).
//! `flaky` addresses are remembered lower-cased.
//!
//! Every message answered with 250 at the end of DATA is captured: MAIL FROM,
//! the accepted RCPT TO addresses and the bytes received between the 354 reply
//! and the final `.` line, with the SMTP dot-stuffing undone (mailin removes
//! it). lettre always ends DATA with `\r\n.\r\n`, so for a lettre client
//! `data == [message.formatted(), b"\r\n"].concat()`.
//!
//! # How it is built
//!
//! SMTP itself (greeting, EHLO, state machine, DATA) is served by
//! `mailin-embedded`, listening on an internal 127.0.0.1 port that the
//! tests never see. Clients connect to a small line-forwarding proxy on
//! another port, which this module owns. The proxy is needed for two reasons:
//!
//! * `drop`: a mailin `Handler` cannot close the connection without writing
//!   a reply (it never sees the socket; even `Action::Close` writes the
//!   response first). The proxy reads the client's `RCPT TO:<drop…>` line,
//!   does not forward it, and closes both sides.
//! * stopping: `mailin_embedded::Server::serve()` runs forever and has no
//!   shutdown. Because the proxy's accept loop is ours, dropping a `TestSmtp`
//!   really stops the server as far as any client can tell: the public port
//!   is closed and every open client connection is shut down.
//!
//! What is left running after `Drop`: mailin's accept thread and its pool
//! threads ([`MAILIN_THREADS`]), parked on the internal listener, until the
//! test process exits. Their sessions all end, since the proxy closes their
//! connections.
//!
//! Both ports come from binding `127.0.0.1:0`; the internal listener is handed
//! to mailin with `Server::with_tcp_listener`, so there is no port race.
//! Plain SMTP only (no STARTTLS, no AUTH); EHLO advertises `8BITMIME`.
//! Pipelining is not supported (and not advertised).

#![allow(dead_code)]

use mailin_embedded::response::OK;
use mailin_embedded::{Handler, Response, Server};
use std::collections::{HashMap, HashSet};
use std::io::{self, BufRead, BufReader, Write};
use std::net::{IpAddr, Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// Size of mailin's session thread pool, i.e. how many SMTP sessions one
/// `TestSmtp` serves at once. Further connections wait (without greeting)
/// until a session ends. Well above the 8–16 pooled client connections.
pub const MAILIN_THREADS: u32 = 32;

/// Default delay of the end-of-DATA reply for `slow…` recipients.
pub const DEFAULT_SLOW_DELAY: Duration = Duration::from_secs(2);

/// One message the server accepted.
#[derive(Debug, Clone)]
pub struct Captured {
    /// Reverse path from MAIL FROM, without angle brackets.
    pub mail_from: String,
    /// Accepted forward paths, in RCPT TO order, without angle brackets.
    pub rcpt_to: Vec<String>,
    /// Bytes received between 354 and the final `.` line, dot-stuffing
    /// removed.
    pub data: Vec<u8>,
}

/// A running scripted SMTP server. `Send + Sync`; it serves on its own
/// threads, so it can be used from `#[tokio::test]` functions directly.
pub struct TestSmtp {
    port: u16,
    shared: Arc<Shared>,
    proxy: Arc<Proxy>,
    accept_thread: Option<JoinHandle<()>>,
}

impl TestSmtp {
    /// Start a server on a free port of 127.0.0.1, with `slow…` recipients
    /// delayed by [`DEFAULT_SLOW_DELAY`].
    pub fn start() -> TestSmtp {
        Self::start_with_slow(DEFAULT_SLOW_DELAY)
    }

    /// Start a server whose end-of-DATA reply for `slow…` recipients is
    /// delayed by `delay`.
    pub fn start_with_slow(delay: Duration) -> TestSmtp {
        let shared = Arc::new(Shared {
            messages: Mutex::new(Vec::new()),
            flaky_seen: Mutex::new(HashSet::new()),
            slow_delay: delay,
            refuse_relay: AtomicBool::new(false),
        });

        // Internal listener for mailin; bound here so its port is known
        // before the server thread starts.
        let inner = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind internal SMTP port");
        let upstream = inner.local_addr().expect("internal SMTP address");
        let handler = ScriptHandler {
            shared: Arc::clone(&shared),
            mail_from: String::new(),
            rcpt_to: Vec::new(),
            data: Vec::new(),
        };
        let mut server = Server::new(handler);
        server
            .with_name("outreach-test-smtp")
            .with_num_threads(MAILIN_THREADS)
            .with_tcp_listener(inner);
        thread::Builder::new()
            .name("test-smtp-mailin".into())
            .spawn(move || {
                // Only returns if the listener breaks; nothing to do then.
                let _ = server.serve();
            })
            .expect("spawn mailin thread");

        // Public listener: the proxy.
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind test SMTP port");
        let port = listener.local_addr().expect("test SMTP address").port();
        let proxy = Arc::new(Proxy {
            upstream,
            stop: AtomicBool::new(false),
            next_id: AtomicU64::new(0),
            conns: Mutex::new(HashMap::new()),
        });
        let accept_proxy = Arc::clone(&proxy);
        let accept_thread = thread::Builder::new()
            .name("test-smtp-accept".into())
            .spawn(move || accept_proxy.accept_loop(listener))
            .expect("spawn accept thread");

        TestSmtp {
            port,
            shared,
            proxy,
            accept_thread: Some(accept_thread),
        }
    }

    /// The port clients connect to, on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// While on, every RCPT TO is refused with `550 5.7.1 Relaying denied` (a misconfigured relay).
    pub fn refuse_relay(&self, on: bool) {
        self.shared.refuse_relay.store(on, Ordering::SeqCst);
    }

    /// Closes every open client connection, as a server does with connections idle too long, and keeps
    /// serving new ones. How many were closed.
    pub fn drop_connections(&self) -> usize {
        let conns: Vec<_> = lock(&self.proxy.conns).drain().collect();
        for (_, (client, upstream)) in &conns {
            let _ = client.shutdown(Shutdown::Both);
            let _ = upstream.shutdown(Shutdown::Both);
        }
        conns.len()
    }

    /// Snapshot of the accepted messages, in the order their DATA ended.
    pub fn messages(&self) -> Vec<Captured> {
        lock(&self.shared.messages).clone()
    }

    /// Number of accepted messages whose RCPT TO list contains `rcpt`
    /// (compared ASCII case-insensitively).
    pub fn count_for(&self, rcpt: &str) -> usize {
        lock(&self.shared.messages)
            .iter()
            .filter(|m| m.rcpt_to.iter().any(|r| r.eq_ignore_ascii_case(rcpt)))
            .count()
    }

    /// Wait until at least `n` messages were accepted or `timeout` passed.
    /// Returns whether `n` was reached. Blocks the calling thread (polls every
    /// 10 ms); from async code prefer `spawn_blocking` for long waits.
    pub fn wait_for(&self, n: usize, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if lock(&self.shared.messages).len() >= n {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for TestSmtp {
    /// Closes the public port and shuts down every open client connection.
    /// mailin's own threads stay parked (see the module docs).
    fn drop(&mut self) {
        self.proxy.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept() so the loop sees `stop` and drops the
        // listener.
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let _ = TcpStream::connect_timeout(&addr, Duration::from_secs(1));
        if let Some(handle) = self.accept_thread.take() {
            let _ = handle.join();
        }
        for (_, (client, upstream)) in lock(&self.proxy.conns).drain() {
            let _ = client.shutdown(Shutdown::Both);
            let _ = upstream.shutdown(Shutdown::Both);
        }
    }
}

// ---------------------------------------------------------------------------
// Rules

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    TempFail,
    Flaky,
    Reject,
    NoUser,
    Denied,
    Drop,
    Slow,
    Accept,
}

fn rule_for(address: &str) -> Rule {
    let local = address.rsplit_once('@').map_or(address, |(local, _)| local);
    let local = local.to_ascii_lowercase();
    const PREFIXES: [(&str, Rule); 7] = [
        ("tempfail", Rule::TempFail),
        ("flaky", Rule::Flaky),
        ("reject", Rule::Reject),
        ("nouser", Rule::NoUser),
        ("denied", Rule::Denied),
        ("drop", Rule::Drop),
        ("slow", Rule::Slow),
    ];
    PREFIXES
        .iter()
        .find(|(prefix, _)| local.starts_with(prefix))
        .map_or(Rule::Accept, |&(_, rule)| rule)
}

fn try_again_later() -> Response {
    Response::custom(451, "4.3.0 Try again later".to_owned())
}

// ---------------------------------------------------------------------------
// mailin handler

struct Shared {
    messages: Mutex<Vec<Captured>>,
    flaky_seen: Mutex<HashSet<String>>,
    slow_delay: Duration,
    refuse_relay: AtomicBool,
}

/// Cloned by mailin for every connection; the fields after `shared` hold the
/// current transaction.
#[derive(Clone)]
struct ScriptHandler {
    shared: Arc<Shared>,
    mail_from: String,
    rcpt_to: Vec<String>,
    data: Vec<u8>,
}

impl Handler for ScriptHandler {
    fn mail(&mut self, _ip: IpAddr, _domain: &str, from: &str) -> Response {
        if from.to_ascii_lowercase().starts_with("badsender") {
            return Response::custom(553, "5.7.1 Sender address rejected".to_owned());
        }
        self.mail_from = from.to_owned();
        self.rcpt_to.clear();
        self.data.clear();
        OK
    }

    fn rcpt(&mut self, to: &str) -> Response {
        if self.shared.refuse_relay.load(Ordering::SeqCst) {
            return Response::custom(550, "5.7.1 Relaying denied".to_owned());
        }
        match rule_for(to) {
            Rule::TempFail => return try_again_later(),
            Rule::Flaky => {
                if lock(&self.shared.flaky_seen).insert(to.to_ascii_lowercase()) {
                    return try_again_later();
                }
            }
            Rule::Reject => return Response::custom(550, "5.1.1 No such user".to_owned()),
            Rule::NoUser => return Response::custom(550, "No such user here".to_owned()),
            // The proxy closes the connection before mailin sees this line;
            // should it ever get here, end the session (421 closes it).
            Rule::Drop => return Response::custom(421, "4.4.2 Closing connection".to_owned()),
            Rule::Denied | Rule::Slow | Rule::Accept => {}
        }
        self.rcpt_to.push(to.to_owned());
        OK
    }

    fn data_start(&mut self, _domain: &str, _from: &str, _is8bit: bool, to: &[String]) -> Response {
        // mailin's own list of accepted recipients for this transaction.
        self.rcpt_to = to.to_vec();
        self.data.clear();
        OK
    }

    fn data(&mut self, buf: &[u8]) -> io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        let rules: Vec<Rule> = self.rcpt_to.iter().map(|r| rule_for(r)).collect();
        if rules.contains(&Rule::Slow) {
            thread::sleep(self.shared.slow_delay);
        }
        let data = std::mem::take(&mut self.data);
        let rcpt_to = std::mem::take(&mut self.rcpt_to);
        if rules.contains(&Rule::Denied) {
            let mut refused = Response::custom(554, "5.7.1 Message refused".to_owned());
            // mailin keeps the session in its DATA state after an error
            // response to the end of DATA, so every later command (RSET,
            // QUIT, the next MAIL) would be swallowed as message text and the
            // client would hang. Marking the reply as non-error makes mailin
            // return to the ready state; the client still receives the 554.
            refused.is_error = false;
            return refused;
        }
        lock(&self.shared.messages).push(Captured {
            mail_from: self.mail_from.clone(),
            rcpt_to,
            data,
        });
        OK
    }
}

// ---------------------------------------------------------------------------
// Proxy

struct Proxy {
    upstream: SocketAddr,
    stop: AtomicBool,
    next_id: AtomicU64,
    /// Open connections (client side, mailin side), so `Drop` can cut them.
    conns: Mutex<HashMap<u64, (TcpStream, TcpStream)>>,
}

impl Proxy {
    fn accept_loop(self: Arc<Self>, listener: TcpListener) {
        for conn in listener.incoming() {
            if self.stop.load(Ordering::SeqCst) {
                break;
            }
            match conn {
                Ok(client) => {
                    let proxy = Arc::clone(&self);
                    let spawned = thread::Builder::new()
                        .name("test-smtp-conn".into())
                        .spawn(move || proxy.serve_conn(client));
                    if spawned.is_err() {
                        // Out of threads: the client sees its connection close.
                        thread::sleep(Duration::from_millis(10));
                    }
                }
                // E.g. EMFILE; don't spin.
                Err(_) => thread::sleep(Duration::from_millis(10)),
            }
        }
    }

    fn serve_conn(self: Arc<Self>, client: TcpStream) {
        let Ok(upstream) = TcpStream::connect(self.upstream) else {
            return;
        };
        let _ = client.set_nodelay(true);
        let _ = upstream.set_nodelay(true);
        let (Ok(client_reader), Ok(client_writer), Ok(upstream_reader)) =
            (client.try_clone(), client.try_clone(), upstream.try_clone())
        else {
            return;
        };

        let id = self.next_id.fetch_add(1, Ordering::SeqCst);
        if let (Ok(c), Ok(u)) = (client.try_clone(), upstream.try_clone()) {
            lock(&self.conns).insert(id, (c, u));
        }
        // Drop may have drained `conns` just before the insert above.
        if self.stop.load(Ordering::SeqCst) {
            close_both(&client, &upstream);
            lock(&self.conns).remove(&id);
            return;
        }

        // Set by the reply pump when mailin answers 354, cleared by the
        // command pump at the final "." line: while set, client lines are
        // message text, not commands.
        let in_data = Arc::new(AtomicBool::new(false));

        let replies = {
            let in_data = Arc::clone(&in_data);
            thread::Builder::new()
                .name("test-smtp-replies".into())
                .spawn(move || pump_replies(upstream_reader, client_writer, &in_data))
        };
        pump_commands(client_reader, &upstream, &in_data);
        close_both(&client, &upstream);
        if let Ok(handle) = replies {
            let _ = handle.join();
        }
        lock(&self.conns).remove(&id);
    }
}

/// mailin → client, line by line.
fn pump_replies(upstream: TcpStream, mut client: TcpStream, in_data: &AtomicBool) {
    let mut reader = BufReader::new(upstream);
    let mut line = Vec::with_capacity(128);
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        if line.starts_with(b"354") {
            // Before forwarding: the client sends text only after seeing it.
            in_data.store(true, Ordering::SeqCst);
        }
        if client.write_all(&line).is_err() {
            break;
        }
    }
    // mailin ended the session (e.g. after QUIT): let the client see EOF.
    let _ = client.shutdown(Shutdown::Both);
}

/// client → mailin, line by line; applies the `drop…` rule.
fn pump_commands(client: TcpStream, mut upstream: &TcpStream, in_data: &AtomicBool) {
    let mut reader = BufReader::new(client);
    let mut line = Vec::with_capacity(128);
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        if in_data.load(Ordering::SeqCst) {
            if line == b".\r\n" {
                in_data.store(false, Ordering::SeqCst);
            }
        } else if rcpt_path(&line).is_some_and(|to| rule_for(&to) == Rule::Drop) {
            // Received, never answered: the caller closes both sides.
            return;
        }
        if upstream.write_all(&line).is_err() {
            return;
        }
    }
}

/// The forward path of a `RCPT TO:<…>` command line.
fn rcpt_path(line: &[u8]) -> Option<String> {
    const VERB: &[u8] = b"RCPT TO:";
    if line.len() < VERB.len() || !line[..VERB.len()].eq_ignore_ascii_case(VERB) {
        return None;
    }
    let rest = String::from_utf8_lossy(&line[VERB.len()..]);
    let rest = rest.trim_start();
    let path = match rest.strip_prefix('<') {
        Some(inner) => inner.split('>').next().unwrap_or(""),
        None => rest.split_whitespace().next().unwrap_or(""),
    };
    Some(path.to_owned())
}

fn close_both(client: &TcpStream, upstream: &TcpStream) {
    let _ = client.shutdown(Shutdown::Both);
    let _ = upstream.shutdown(Shutdown::Both);
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panicking test thread must not make every later call panic too.
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
