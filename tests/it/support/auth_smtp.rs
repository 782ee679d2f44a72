//! A plain-text SMTP server that advertises AUTH and would accept any credentials, as a careless relay does:
//! it records every command line it is sent (so a test sees whether `AUTH` crossed the network in clear) and
//! every message it accepts. No STARTTLS: a client that insists on TLS cannot go on here.
//!
//! The scripted server in `smtp.rs` is mailin-embedded, which offers AUTH only over TLS, so it cannot show
//! the hole this one is for.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;

#[derive(Default)]
struct Seen {
    /// Every line a client sent outside DATA, in order, across connections.
    commands: Vec<String>,
    /// The bodies of the messages accepted.
    messages: Vec<String>,
}

pub struct AuthSmtp {
    port: u16,
    seen: Arc<Mutex<Seen>>,
}

impl AuthSmtp {
    /// Serves on a free port of 127.0.0.1 until the test process ends (one thread per connection).
    pub fn start() -> AuthSmtp {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind capture SMTP port");
        let port = listener.local_addr().expect("capture SMTP address").port();
        let seen = Arc::new(Mutex::new(Seen::default()));
        let shared = seen.clone();
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let seen = shared.clone();
                thread::spawn(move || {
                    let _ = session(stream, &seen);
                });
            }
        });
        AuthSmtp { port, seen }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn commands(&self) -> Vec<String> {
        self.seen.lock().unwrap().commands.clone()
    }

    pub fn messages(&self) -> Vec<String> {
        self.seen.lock().unwrap().messages.clone()
    }

    /// Whether any client began an AUTH exchange.
    pub fn saw_auth(&self) -> bool {
        self.commands()
            .iter()
            .any(|c| c.to_ascii_uppercase().starts_with("AUTH"))
    }
}

fn session(stream: TcpStream, seen: &Mutex<Seen>) -> std::io::Result<()> {
    let mut out = stream.try_clone()?;
    let mut lines = BufReader::new(stream);
    out.write_all(b"220 capture.test ESMTP\r\n")?;
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_owned();
        seen.lock().unwrap().commands.push(command.clone());
        let verb = command.split(' ').next().unwrap_or_default().to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" => b"250-capture.test\r\n250-8BITMIME\r\n250 AUTH PLAIN LOGIN\r\n",
            "HELO" => b"250 capture.test\r\n",
            "AUTH" if command.split(' ').count() >= 3 => b"235 2.7.0 Authentication successful\r\n",
            // AUTH LOGIN, or PLAIN without an initial response: ask, then take whatever comes.
            "AUTH" => {
                out.write_all(b"334 \r\n")?;
                line.clear();
                lines.read_line(&mut line)?;
                seen.lock().unwrap().commands.push(line.trim_end().to_owned());
                if command.to_ascii_uppercase().contains("LOGIN") {
                    out.write_all(b"334 \r\n")?;
                    line.clear();
                    lines.read_line(&mut line)?;
                    seen.lock().unwrap().commands.push(line.trim_end().to_owned());
                }
                b"235 2.7.0 Authentication successful\r\n"
            }
            "MAIL" | "RCPT" | "RSET" | "NOOP" => b"250 2.0.0 OK\r\n",
            "DATA" => {
                out.write_all(b"354 go ahead\r\n")?;
                let mut body = String::new();
                loop {
                    line.clear();
                    if lines.read_line(&mut line)? == 0 {
                        return Ok(());
                    }
                    if line == ".\r\n" || line == ".\n" {
                        break;
                    }
                    body.push_str(&line);
                }
                seen.lock().unwrap().messages.push(body);
                b"250 2.0.0 queued\r\n"
            }
            "QUIT" => {
                out.write_all(b"221 2.0.0 bye\r\n")?;
                return Ok(());
            }
            _ => b"502 5.5.2 not implemented\r\n",
        };
        out.write_all(reply)?;
    }
}
