//! The options of `tinytrain monitor --serial` that shape the connection, each observed from the
//! device's side of it, so a test here fails if its option is parsed and then ignored:
//!
//! * `--baud N`: the speed the monitor sets on the port (a pty, whose termios this process reads).
//! * `--retry-ms MS`: how soon a port that dropped is opened again (a Unix socket that hangs up on
//!   every connection, the connections counted).
//! * `--timeout SECONDS`: a port that stays silent (a Unix socket that accepts and says nothing), one
//!   that falls silent after two records, and one that never opens each stop the monitor with an
//!   error, in time, with what came saved.
//!
//! `--machine` (for `--qemu`) is tested with QEMU in `tests/tests/monitor_qemu.rs`; stdin `-` and
//! `--epochs` in `options.rs`.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serialport::{SerialPort, TTYPort};

/// The monitor's start byte (`tinytrain_experiments::frame::HANDSHAKE_START`).
const HANDSHAKE_START: u8 = tinytrain_experiments::frame::HANDSHAKE_START;

/// `tinytrain monitor --serial PATH --plain --no-plot --out DIR ARGS`, killed when dropped.
struct Monitor(Child);

impl Monitor {
    fn start(path: &str, out: &std::path::Path, args: &[&str]) -> Self {
        let child = Command::new(env!("CARGO_BIN_EXE_tinytrain"))
            .args(["monitor", "--serial", path, "--plain", "--no-plot", "--out"])
            .arg(out)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        Self(child)
    }
}

impl Drop for Monitor {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The baud rate the monitor leaves on a pty's slave once it has opened it (it has when its start
/// byte reaches the master), with `args` on the command line.
fn baud_set_by_the_monitor(args: &[&str]) -> u32 {
    let (mut master, slave) = TTYPort::pair().unwrap();
    master.set_timeout(Duration::from_secs(30)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let _monitor = Monitor::start(&slave.name().unwrap(), &dir.path().join("run"), args);
    let mut byte = [0u8];
    master.read_exact(&mut byte).unwrap();
    assert_eq!(byte[0], HANDSHAKE_START);
    // Our slave handle shares the tty, so its termios are the ones the monitor set.
    slave.baud_rate().unwrap()
}

#[test]
fn the_baud_option_sets_the_speed_of_the_port() {
    assert_eq!(baud_set_by_the_monitor(&[]), 115_200, "the default");
    assert_eq!(baud_set_by_the_monitor(&["--baud", "57600"]), 57_600);
    assert_eq!(baud_set_by_the_monitor(&["--baud", "9600"]), 9_600);
}

/// How many times the monitor connects within `window` after its first connection, to a device
/// that hangs up at once every time, with `--retry-ms retry_ms`.
fn connections_within(window: Duration, retry_ms: u64) -> usize {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("device.sock");
    let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
    let _monitor = Monitor::start(
        path.to_str().unwrap(),
        &dir.path().join("run"),
        &["--retry-ms", &retry_ms.to_string()],
    );
    let (first, _) = listener.accept().unwrap();
    drop(first);
    let start = Instant::now();
    listener.set_nonblocking(true).unwrap();
    let mut connections = 1;
    while start.elapsed() < window {
        match listener.accept() {
            Ok((stream, _)) => {
                connections += 1;
                drop(stream);
            }
            Err(_) => std::thread::sleep(Duration::from_millis(5)),
        }
    }
    connections
}

#[test]
fn retry_ms_sets_how_soon_a_dropped_port_is_opened_again() {
    // Every 50 ms: many reconnections in 2 s, even on a slow machine.
    let quick = connections_within(Duration::from_secs(2), 50);
    assert!(quick >= 6, "--retry-ms 50: {quick} connections in 2 s");
    // Every 10 s: none but the first in 2 s (the default, 500 ms, would give about 4).
    let slow = connections_within(Duration::from_secs(2), 10_000);
    assert_eq!(slow, 1, "--retry-ms 10000: {slow} connections in 2 s");
}

/// `tinytrain monitor --serial PATH --plain --out OUT ARGS` run to its end: its exit status, its
/// stderr and how long it ran. Killed, and the test failed, if it runs longer than 20 s.
fn monitor_to_the_end(path: &Path, out: &Path, args: &[&str]) -> (ExitStatus, String, Duration) {
    let start = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tinytrain"))
        .arg("monitor")
        .arg("--serial")
        .arg(path)
        .args(["--plain", "--out"])
        .arg(out)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the monitor still runs after 20 s: {}",
                reader.join().unwrap()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    (status, reader.join().unwrap(), start.elapsed())
}

/// A device on a Unix socket that accepts one connection, sends `lines` and then stays silent
/// until the monitor hangs up.
fn silent_device(path: &Path, lines: &'static [&'static str]) -> std::thread::JoinHandle<()> {
    let listener = std::os::unix::net::UnixListener::bind(path).unwrap();
    std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        for line in lines {
            stream.write_all(line.as_bytes()).unwrap();
        }
        let mut sink = Vec::new();
        let _ = stream.read_to_end(&mut sink);
    })
}

#[test]
fn timeout_stops_a_monitor_whose_port_stays_silent() {
    let dir = tempfile::tempdir().unwrap();
    let (path, out) = (dir.path().join("device.sock"), dir.path().join("run"));
    let device = silent_device(&path, &[]);
    let (status, stderr, took) = monitor_to_the_end(&path, &out, &["--timeout", "1"]);
    device.join().unwrap();
    assert!(!status.success(), "{status}: {stderr}");
    let expected = format!(
        "error: --timeout 1: no frame from {} for 1 s since the monitor started",
        path.display()
    );
    assert!(stderr.contains(&expected), "{stderr}");
    assert!(
        took >= Duration::from_secs(1) && took < Duration::from_secs(10),
        "{took:?}"
    );
    assert!(
        out.join("metrics.jsonl").is_file(),
        "the run directory is kept"
    );
}

#[test]
fn timeout_stops_a_monitor_whose_port_falls_silent_and_saves_what_came() {
    let dir = tempfile::tempdir().unwrap();
    let (path, out) = (dir.path().join("device.sock"), dir.path().join("run"));
    let device = silent_device(
        &path,
        &[
            "{\"epoch\":1,\"train_loss\":0.5,\"lr\":0.001}\n",
            "{\"epoch\":2,\"train_loss\":0.25,\"lr\":0.001}\n",
        ],
    );
    let (status, stderr, _) = monitor_to_the_end(&path, &out, &["--timeout", "1"]);
    device.join().unwrap();
    assert!(!status.success(), "{status}: {stderr}");
    assert!(stderr.contains("for 1 s since the last one"), "{stderr}");
    let saved = std::fs::read_to_string(out.join("metrics.jsonl")).unwrap();
    assert_eq!(saved.lines().count(), 2, "{saved}");
    assert!(out.join("curves.png").is_file() && out.join("curves.svg").is_file());
}

#[test]
fn timeout_stops_a_monitor_whose_port_never_opens() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ttyUSB9"); // nothing there
    let (status, stderr, took) =
        monitor_to_the_end(&path, &dir.path().join("run"), &["--timeout", "1"]);
    assert!(!status.success(), "{status}: {stderr}");
    assert!(
        stderr.contains(&format!("no frame from {} for 1 s", path.display()))
            && stderr.contains("the port does not open"),
        "{stderr}"
    );
    assert!(took < Duration::from_secs(10), "{took:?}");
}
