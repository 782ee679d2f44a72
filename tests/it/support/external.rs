//! The SMTP servers CI runs beside the tests (the scripted aiosmtpd, Postfix's smtp-sink): their address from the
//! environment, and what the capturing aiosmtpd wrote to disk. Without them a test says it did not run, and
//! under CI it fails.
#![allow(dead_code)]

/// The port of the server in `address_var` (host:port) and the value of `second_var`, when both are set.
pub fn external(address_var: &str, second_var: &str) -> Option<(u16, String)> {
    match (std::env::var(address_var), std::env::var(second_var)) {
        (Ok(address), Ok(second)) => {
            let port = address
                .rsplit(':')
                .next()
                .and_then(|p| p.parse().ok())
                .expect("host:port");
            Some((port, second))
        }
        _ if std::env::var_os("CI").is_some() => panic!("CI is set but {address_var} is not: this test must run in CI"),
        _ => {
            eprintln!("{address_var} not set: test against the external SMTP server not run");
            None
        }
    }
}

/// (RCPT TO list, raw message) of every mail the aiosmtpd server captured (<n>.json beside <n>.eml).
pub fn captured_by_aiosmtpd(dir: &str) -> Vec<(Vec<String>, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().filter_map(|e| e.ok()) {
        let path = entry.path();
        if path.extension().is_some_and(|x| x == "json") {
            let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
            let to = v["rcpt_to"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r.as_str().unwrap().to_owned())
                .collect();
            out.push((to, std::fs::read(path.with_extension("eml")).unwrap()));
        }
    }
    out
}
