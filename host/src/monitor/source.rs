//! The monitor's sources: each runs on a thread of its own and sends [`Input`]s over a channel.

use std::io::{BufRead, Read, Write};
use std::path::Path;
use std::process::Child;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::Context;
use tinytrain_experiments::frame::{HANDSHAKE_ACK, HANDSHAKE_START};

use super::{classify, Input};
use crate::decode;

/// How long a read on a port waits before the source looks at its stop flag again.
const POLL: Duration = Duration::from_millis(100);
/// How often the start byte is repeated until the device sends something.
const START_REPEAT: Duration = Duration::from_secs(1);
/// Longest line kept while waiting for its newline (noise without newlines is dropped).
const MAX_LINE: usize = 64 * 1024;
/// How long QEMU may take to create its socket, and to exit after the acknowledgement.
const QEMU_GRACE: Duration = Duration::from_secs(30);

/// A running source. Dropping it stops the thread, closes the port and kills QEMU.
#[derive(Debug)]
pub struct Source {
    stop: Arc<AtomicBool>,
    child: Arc<Mutex<Option<Child>>>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for Source {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Ok(mut child) = self.child.lock() {
            if let Some(child) = child.as_mut() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
        // The threads of ports and QEMU notice the flag within `POLL`; a replay of stdin may be
        // blocked in `read` for good, so it is left to end with the process.
        if let Some(thread) = self.thread.take() {
            if thread.is_finished() {
                let _ = thread.join();
            }
        }
    }
}

impl Source {
    fn new(stop: Arc<AtomicBool>, thread: Option<JoinHandle<()>>) -> Self {
        Self {
            stop,
            child: Arc::new(Mutex::new(None)),
            thread,
        }
    }

    /// A replay of `input` (`-`: stdin). A file is read at once; returns the number of epochs it
    /// holds (its highest epoch), `None` for stdin.
    pub fn replay(input: &Path, sender: Sender<Input>) -> anyhow::Result<(Self, Option<u32>)> {
        let stop = Arc::new(AtomicBool::new(false));
        if input == Path::new("-") {
            let thread = std::thread::spawn(move || {
                let result = read_lines(std::io::stdin().lock(), &sender);
                let _ = sender.send(Input::End(result));
            });
            return Ok((Self::new(stop, Some(thread)), None));
        }
        let bytes =
            std::fs::read(input).with_context(|| format!("cannot read {}", input.display()))?;
        let mut epochs = None;
        for line in bytes.split(|&b| b == b'\n') {
            if let Some(input) = classify(&String::from_utf8_lossy(line)) {
                if let Input::Record(r) = &input {
                    epochs = epochs.max(Some(r.epoch));
                }
                let _ = sender.send(input);
            }
        }
        let _ = sender.send(Input::End(Ok(())));
        Ok((Self::new(stop, None), epochs))
    }

    /// A serial port or Unix socket at `path`, reopened every `retry` after a disconnect, until the
    /// summary frame — or, with a `timeout`, until no frame has come for that long (from the start,
    /// or since the last one), which ends the source with an error that says so.
    pub fn serial(
        path: &Path,
        baud: u32,
        retry: Duration,
        timeout: Option<Duration>,
        sender: Sender<Input>,
    ) -> Self {
        Self::port(path, baud, Some(retry), None, timeout, sender)
    }

    /// A serial port (or Unix socket) at `path` that `feed`'s frames are written to while the
    /// device's frames are read, until the summary, or until no frame has come for `timeout`. No
    /// start byte, and no reopening: a stream cut off part-way is an error.
    pub fn fed(
        path: &Path,
        baud: u32,
        feed: Feed,
        timeout: Option<Duration>,
        sender: Sender<Input>,
    ) -> Self {
        Self::port(path, baud, None, Some(feed), timeout, sender)
    }

    /// [`serial_loop`] on a thread of its own, its outcome the source's end.
    fn port(
        path: &Path,
        baud: u32,
        retry: Option<Duration>,
        feed: Option<Feed>,
        timeout: Option<Duration>,
        sender: Sender<Input>,
    ) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let (path, flag) = (path.to_path_buf(), Arc::clone(&stop));
        let thread = std::thread::spawn(move || {
            let mut silence = Silence::new(timeout);
            let result = serial_loop(&path, baud, retry, feed, &mut silence, &sender, &flag);
            let _ = sender.send(Input::End(result));
        });
        Self::new(stop, Some(thread))
    }

    /// `elf` in `qemu-system-arm` on `machine` (default: `machine_for` the ELF), its UART on a
    /// Unix socket, its semihosting stdout decoded as defmt; with a `feed`, its frames are written
    /// to the UART while the device's are read (then no start byte is sent: the firmware of a
    /// stream reads frames, not a handshake).
    pub fn qemu(
        elf: &Path,
        machine: Option<&str>,
        feed: Option<Feed>,
        sender: Sender<Input>,
    ) -> anyhow::Result<Self> {
        let elf_bytes =
            std::fs::read(elf).with_context(|| format!("cannot read {}", elf.display()))?;
        let machine = machine.map_or_else(|| machine_for(&elf_bytes).to_owned(), str::to_owned);
        let dir = std::env::temp_dir().join(format!(
            "tinytrain-monitor-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        ));
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        let socket = dir.join("uart.sock");
        let serial = format!("unix:{},server=on,wait=on", socket.display());
        let mut child = crate::qemu::command(&machine, elf, &serial)
            .spawn()
            .context("cannot start qemu-system-arm (apt-get install qemu-system-arm)")?;
        let stdout = child.stdout.take().context("QEMU's stdout")?;
        let mut stderr = child.stderr.take().context("QEMU's stderr")?;
        let stop = Arc::new(AtomicBool::new(false));
        let mut source = Self::new(Arc::clone(&stop), None);
        *source
            .child
            .lock()
            .map_err(|_| anyhow::anyhow!("poisoned"))? = Some(child);
        let child = Arc::clone(&source.child);
        let thread = std::thread::spawn(move || {
            let log = sender.clone();
            let defmt = std::thread::spawn(move || {
                decode::decode_defmt_stream(&elf_bytes, stdout, |line| {
                    let _ = log.send(Input::Log(line.to_owned()));
                    Ok(())
                })
            });
            let errors = std::thread::spawn(move || {
                let mut text = String::new();
                let _ = stderr.read_to_string(&mut text);
                text
            });
            let mut result = connect_to_qemu(&socket, &child, &stop).and_then(|mut port| {
                let _ = sender.send(Input::Connected(format!("QEMU {machine}")));
                match session(&mut port, feed, &mut Silence::new(None), &sender, &stop) {
                    Session::Summary | Session::Stopped => Ok(()),
                    Session::Silent => Err("QEMU's serial port: silent".into()),
                    Session::Lost(why) => Err(format!(
                        "QEMU's serial port: {why} before the summary frame"
                    )),
                }
            });
            let status = wait_for_exit(&child, &stop);
            let decoded = defmt.join();
            let errors = errors.join().unwrap_or_default();
            let _ = std::fs::remove_dir_all(&dir);
            if result.is_ok() {
                result = match (status, decoded) {
                    (Some(status), _) if !status.success() => {
                        Err(format!("QEMU exited with {status} {}", errors.trim()))
                    }
                    (None, _) if !stop.load(Ordering::SeqCst) => {
                        Err("QEMU did not exit after the summary".into())
                    }
                    (_, Ok(Err(e))) => Err(format!("defmt: {e:#}")),
                    _ => Ok(()),
                };
            } else if let Err(e) = &mut result {
                if !errors.trim().is_empty() {
                    e.push_str(&format!(" (QEMU: {})", errors.trim()));
                }
            }
            let _ = sender.send(Input::End(result));
        });
        source.thread = Some(thread);
        Ok(source)
    }

    #[cfg(feature = "probe")]
    pub(super) fn from_thread(stop: Arc<AtomicBool>, thread: JoinHandle<()>) -> Self {
        Self::new(stop, Some(thread))
    }
}

/// The QEMU machine for a firmware image, as `firmware/qemu-run.sh` picks it: `netduinoplus2` when
/// a segment loads at the STM32's flash (`0x0800_0000`), else `mps2-an386`.
pub fn machine_for(elf: &[u8]) -> &'static str {
    use object::{Object, ObjectSegment};
    let stm32 = object::File::parse(elf).is_ok_and(|file| {
        file.segments()
            .any(|s| (0x0800_0000..0x0900_0000).contains(&s.address()))
    });
    if stm32 {
        "netduinoplus2"
    } else {
        "mps2-an386"
    }
}

/// Reads lines until the end of `reader`, classifying each.
fn read_lines(mut reader: impl BufRead, sender: &Sender<Input>) -> Result<(), String> {
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) => return Ok(()),
            Ok(_) => {
                if let Some(input) = classify(&String::from_utf8_lossy(&line)) {
                    if sender.send(input).is_err() {
                        return Ok(());
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("cannot read the input: {e}")),
        }
    }
}

/// A byte stream both ways: a serial port or a Unix socket.
trait Port: Read + Write + Send {
    /// A second handle that writes to the same port (a [`Feed`]'s, on a thread of its own).
    fn writer(&self) -> std::io::Result<Box<dyn Write + Send>>;
}

#[cfg(unix)]
impl Port for std::os::unix::net::UnixStream {
    fn writer(&self) -> std::io::Result<Box<dyn Write + Send>> {
        Ok(Box::new(self.try_clone()?))
    }
}

impl Port for Box<dyn serialport::SerialPort> {
    fn writer(&self) -> std::io::Result<Box<dyn Write + Send>> {
        Ok(Box::new(self.try_clone().map_err(std::io::Error::from)?))
    }
}

/// Opens a Unix socket (connects to it) or a serial port, reads time out after [`POLL`].
fn open_port(path: &Path, baud: u32) -> std::io::Result<Box<dyn Port>> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if std::fs::metadata(path)?.file_type().is_socket() {
            let stream = std::os::unix::net::UnixStream::connect(path)?;
            stream.set_read_timeout(Some(POLL))?;
            return Ok(Box::new(stream));
        }
    }
    let port = serialport::new(path.to_string_lossy(), baud)
        .timeout(POLL)
        .open()
        .map_err(std::io::Error::from)?;
    Ok(Box::new(port))
}

/// How a connection ended.
enum Session {
    /// The summary frame came (and was acknowledged).
    Summary,
    /// The monitor is stopping.
    Stopped,
    /// The port failed or closed: why.
    Lost(String),
    /// No frame came within the timeout ([`Silence`]).
    Silent,
}

/// `monitor --timeout`: how long since the start, or since the last good line (a frame, a record,
/// a log line: not noise, which a wrong baud rate makes plenty of).
struct Silence {
    limit: Option<Duration>,
    since: Instant,
    heard: bool,
}

impl Silence {
    fn new(limit: Option<Duration>) -> Self {
        Self {
            limit,
            since: Instant::now(),
            heard: false,
        }
    }

    /// A good line came.
    fn heard(&mut self) {
        self.since = Instant::now();
        self.heard = true;
    }

    /// How long is left before the timeout (`None`: no timeout).
    fn left(&self) -> Option<Duration> {
        self.limit
            .map(|limit| limit.saturating_sub(self.since.elapsed()))
    }

    fn expired(&self) -> bool {
        self.left() == Some(Duration::ZERO)
    }

    /// The error: the port, the time waited and since when; `why` the port did not open, if so.
    fn error(&self, path: &Path, why: Option<&str>) -> String {
        let seconds = self.limit.unwrap_or_default().as_secs_f64();
        let since = if self.heard {
            "since the last one"
        } else {
            "since the monitor started"
        };
        let mut text = format!(
            "--timeout {seconds}: no frame from {} for {seconds} s {since}",
            path.display()
        );
        match why {
            Some(why) => text.push_str(&format!(" (the port does not open: {why})")),
            None if !self.heard => {
                text.push_str(" (is the board running firmware that reports, at this --baud?)")
            }
            None => {}
        }
        text
    }
}

/// Opens `path` and reads frames until the summary (writing `feed`'s frames to the first
/// connection); after a disconnect, reopens it every `retry` (`None`: a disconnect is the end).
/// Fails once `silence` expires, open or not.
fn serial_loop(
    path: &Path,
    baud: u32,
    retry: Option<Duration>,
    mut feed: Option<Feed>,
    silence: &mut Silence,
    sender: &Sender<Input>,
    stop: &Arc<AtomicBool>,
) -> Result<(), String> {
    let mut reported = false;
    // Sleeps `retry`, or until the timeout if that is sooner: `false` when it expired.
    let wait = |retry: Duration, silence: &Silence| {
        std::thread::sleep(silence.left().map_or(retry, |left| left.min(retry)));
        !silence.expired()
    };
    loop {
        if stop.load(Ordering::SeqCst) {
            return Ok(());
        }
        let mut port = match open_port(path, baud) {
            Ok(port) => port,
            Err(e) => {
                let why = format!("cannot open {}: {e}", path.display());
                let Some(retry) = retry else { return Err(why) };
                if !reported {
                    reported = true;
                    if sender.send(Input::Disconnected(why.clone())).is_err() {
                        return Ok(());
                    }
                }
                if !wait(retry, silence) {
                    return Err(silence.error(path, Some(&e.to_string())));
                }
                continue;
            }
        };
        let _ = sender.send(Input::Connected(path.display().to_string()));
        match session(&mut *port, feed.take(), silence, sender, stop) {
            Session::Summary | Session::Stopped => return Ok(()),
            Session::Silent => return Err(silence.error(path, None)),
            Session::Lost(why) => {
                let why = format!("{}: {why}", path.display());
                let Some(retry) = retry else {
                    return Err(format!("{why} before the summary frame"));
                };
                reported = true;
                let _ = sender.send(Input::Disconnected(why));
                if !wait(retry, silence) {
                    return Err(silence.error(path, None));
                }
            }
        }
    }
}

/// One connection: sends the start byte (repeated until bytes arrive) — or, with a `feed`, writes
/// its frames from a thread of its own instead —, splits the stream into lines, and acknowledges
/// the summary frame; gives up when `silence` expires.
fn session(
    port: &mut dyn Port,
    feed: Option<Feed>,
    silence: &mut Silence,
    sender: &Sender<Input>,
    stop: &Arc<AtomicBool>,
) -> Session {
    let send_byte = |port: &mut dyn Port, byte: u8| {
        let _ = port.write_all(&[byte]).and_then(|()| port.flush());
    };
    let handshake = feed.is_none();
    // Set when the device's ready frame comes: the feed waits for it.
    let ready = Arc::new(AtomicBool::new(false));
    match feed {
        Some(feed) => match port.writer() {
            Ok(writer) => {
                let (stop, ready) = (Arc::clone(stop), Arc::clone(&ready));
                std::thread::spawn(move || feed.write(writer, &ready, &stop));
            }
            Err(e) => return Session::Lost(format!("cannot write the stream to the port: {e}")),
        },
        None => send_byte(port, HANDSHAKE_START),
    }
    let (mut started, mut heard) = (Instant::now(), !handshake);
    let mut pending: Vec<u8> = Vec::new();
    let mut buffer = [0u8; 4096];
    // After the summary: when the last bytes came (the weights frames of `dump-weights` follow it).
    let mut summary_at: Option<Instant> = None;
    let lost = |pending: &[u8], why: String| {
        if !pending.iter().all(u8::is_ascii_whitespace) {
            let _ = sender.send(Input::Corrupted("a line cut off by the disconnect".into()));
        }
        Session::Lost(why)
    };
    loop {
        if stop.load(Ordering::SeqCst) {
            return Session::Stopped;
        }
        if summary_at.is_none() && silence.expired() {
            return Session::Silent;
        }
        if !heard && started.elapsed() >= START_REPEAT {
            send_byte(port, HANDSHAKE_START);
            started = Instant::now();
        }
        let n = match port.read(&mut buffer) {
            Ok(0) if summary_at.is_some() => return Session::Summary,
            Ok(0) => return lost(&pending, "end of stream".into()),
            Ok(n) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::TimedOut
                        | std::io::ErrorKind::WouldBlock
                        | std::io::ErrorKind::Interrupted
                ) =>
            {
                if summary_at.is_some_and(|at| at.elapsed() >= SUMMARY_TAIL) {
                    return Session::Summary;
                }
                continue;
            }
            Err(_) if summary_at.is_some() => return Session::Summary,
            Err(e) => return lost(&pending, e.to_string()),
        };
        heard = true;
        if summary_at.is_some() {
            summary_at = Some(Instant::now());
        }
        pending.extend_from_slice(&buffer[..n]);
        while let Some(end) = pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = pending.drain(..=end).collect();
            let Some(input) = classify(&String::from_utf8_lossy(&line)) else {
                continue;
            };
            let summary = matches!(input, Input::Summary(_));
            if matches!(input, Input::Ready) {
                ready.store(true, Ordering::SeqCst);
            }
            if !matches!(input, Input::Corrupted(_)) {
                silence.heard();
            }
            if sender.send(input).is_err() {
                return Session::Stopped;
            }
            if summary {
                send_byte(port, HANDSHAKE_ACK);
                summary_at = Some(Instant::now());
            }
        }
        if pending.len() > MAX_LINE {
            pending.clear();
            let _ = sender.send(Input::Corrupted("no line end in 64 KiB".into()));
        }
    }
}

/// Frames to write to a device while its output is read: the samples of a stream
/// (`tinytrain_experiments::wire::sample`), at most `rate` a second (`None`: as fast as the port
/// takes them; QEMU's UART takes a byte only when the firmware has read the one before, so
/// nothing is lost).
#[derive(Clone, Debug)]
pub struct Feed {
    /// The sealed frames, in order.
    pub frames: Vec<Vec<u8>>,
    /// Frames per second at most.
    pub rate: Option<f64>,
}

impl Feed {
    /// Once `ready` is set (the device's ready frame came), writes every frame to `port`, paced by
    /// the rate; stops early at `stop` or a write error (the device's side then ends without its
    /// summary, which the session reports).
    fn write(self, mut port: impl Write, ready: &AtomicBool, stop: &AtomicBool) {
        while !ready.load(Ordering::SeqCst) {
            if stop.load(Ordering::SeqCst) {
                return;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        let started = Instant::now();
        for (n, frame) in self.frames.iter().enumerate() {
            if stop.load(Ordering::SeqCst) {
                return;
            }
            if let Some(rate) = self.rate.filter(|r| *r > 0.0) {
                let due = started + Duration::from_secs_f64(n as f64 / rate);
                std::thread::sleep(due.saturating_duration_since(Instant::now()));
            }
            if port.write_all(frame).and_then(|()| port.flush()).is_err() {
                return;
            }
        }
    }
}

/// How long the session goes on reading after the summary frame while frames still come (the
/// weights frames that follow it); the end of the stream ends it sooner.
const SUMMARY_TAIL: Duration = Duration::from_millis(500);

/// Connects to QEMU's serial socket once QEMU listens on it (`Err` if QEMU exits first). The
/// first connection is the one QEMU serves (`wait=on`): no probing connections.
fn connect_to_qemu(
    socket: &Path,
    child: &Mutex<Option<Child>>,
    stop: &AtomicBool,
) -> Result<std::os::unix::net::UnixStream, String> {
    let started = Instant::now();
    loop {
        if stop.load(Ordering::SeqCst) {
            return Err("stopped".into());
        }
        // The socket file exists from `bind` on; QEMU accepts connections from `listen` on.
        if let Ok(stream) = std::os::unix::net::UnixStream::connect(socket) {
            stream
                .set_read_timeout(Some(POLL))
                .map_err(|e| e.to_string())?;
            return Ok(stream);
        }
        if let Some(status) = try_wait(child) {
            return Err(format!(
                "QEMU exited with {status} before it opened the serial port"
            ));
        }
        if started.elapsed() > QEMU_GRACE {
            return Err("QEMU did not open its serial socket".into());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn try_wait(child: &Mutex<Option<Child>>) -> Option<std::process::ExitStatus> {
    child
        .lock()
        .ok()?
        .as_mut()
        .and_then(|c| c.try_wait().ok().flatten())
}

/// Waits for QEMU to exit (`None`: stopped, or not within [`QEMU_GRACE`]; it is then killed).
fn wait_for_exit(
    child: &Mutex<Option<Child>>,
    stop: &AtomicBool,
) -> Option<std::process::ExitStatus> {
    let started = Instant::now();
    loop {
        if let Some(status) = try_wait(child) {
            return Some(status);
        }
        if stop.load(Ordering::SeqCst) || started.elapsed() > QEMU_GRACE {
            if let Ok(mut child) = child.lock() {
                if let Some(child) = child.as_mut() {
                    let _ = child.kill();
                    let _ = child.wait();
                }
            }
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}
