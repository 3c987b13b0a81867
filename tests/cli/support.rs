//! Running the binary and talking to what it serves.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{Value, json};

/// The binary under test.
pub fn taoscope() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_taoscope"));
    c.env_remove("DATABASE_URL").env("TAOSCOPE_LOG", "warn");
    c
}

/// Runs to completion with a timeout.
pub fn run(mut cmd: Command) -> Output {
    let child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn taoscope");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    rx.recv_timeout(Duration::from_secs(60)).expect("taoscope exits within 60 s").expect("output")
}

/// Asserts a failed run whose stderr ends with exactly one `error:` line containing `needle`.
pub fn assert_one_line_error(out: &Output, needle: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "exit code; stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "no panic: {stderr}");
    let last = stderr.trim_end().lines().last().unwrap_or_default();
    assert!(last.starts_with("error: "), "last line is the error: {stderr}");
    assert_eq!(stderr.lines().filter(|l| l.starts_with("error: ")).count(), 1, "one error line: {stderr}");
    assert!(last.contains(needle), "{needle:?} in {last:?}");
}

/// A spawned long-running command whose stdout lines are collected.
pub struct Running {
    pub child: Child,
    lines: mpsc::Receiver<String>,
    pub seen: Vec<String>,
}

impl Running {
    pub fn spawn(mut cmd: Command) -> Running {
        let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().expect("spawn");
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        Running { child, lines, seen: vec![] }
    }

    /// Waits for a stdout line starting with `prefix`; returns the rest of it.
    pub fn wait_line(&mut self, prefix: &str, timeout: Duration) -> String {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let line = self
                .lines
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("no {prefix:?} line; saw {:?}", self.seen));
            self.seen.push(line.clone());
            if let Some(rest) = line.strip_prefix(prefix) {
                return rest.to_string();
            }
        }
    }

    /// Sends SIGINT (Ctrl-C) and waits for the exit.
    pub fn interrupt(mut self, timeout: Duration) -> (std::process::ExitStatus, Vec<String>) {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-INT", &pid]).status().expect("kill");
        let deadline = std::time::Instant::now() + timeout;
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            if std::time::Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("did not stop within {timeout:?} after Ctrl-C");
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        while let Ok(l) = self.lines.recv_timeout(Duration::from_millis(200)) {
            self.seen.push(l);
        }
        (status, std::mem::take(&mut self.seen))
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

/// A GraphQL query against `base` (`http://host:port`).
pub async fn graphql(base: &str, query: &str) -> Value {
    reqwest::Client::new()
        .post(format!("{base}/graphql"))
        .json(&json!({ "query": query }))
        .send()
        .await
        .expect("API answers")
        .json()
        .await
        .expect("JSON")
}

/// A free TCP port on loopback that stays taken while the listener lives.
pub fn taken_port() -> std::net::TcpListener {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap()
}
