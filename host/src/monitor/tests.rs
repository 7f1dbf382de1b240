use std::io::{Read, Write};
use std::path::Path;
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use tinytrain::record::EpochRecord;
use tinytrain_experiments::frame::{self, HANDSHAKE_ACK, HANDSHAKE_START};
use tinytrain_experiments::RecordBits;

use super::*;

/// A record of a run whose validation loss turns up after epoch 4 (overfitting).
fn record(epoch: u32) -> EpochRecord {
    let e = epoch as f32;
    EpochRecord {
        epoch,
        train_loss: 1.0 / e,
        train_acc: Some(0.5 + 0.04 * e),
        val_loss: Some(if epoch <= 4 {
            1.0 / e
        } else {
            0.25 + 0.1 * (e - 4.0)
        }),
        val_acc: Some(0.6),
        lr: 0.001,
        val_f1: Some(0.55),
        ..Default::default()
    }
}

/// The firmware's frame of a record: its JSON, `"bits"`, the CRC trailer.
fn epoch_frame(record: &EpochRecord) -> String {
    let mut value = serde_json::to_value(record).unwrap();
    value["bits"] = serde_json::to_value(RecordBits::of(record)).unwrap();
    seal(&value.to_string())
}

fn seal(json: &str) -> String {
    let trailer = frame::trailer(json.as_bytes());
    format!("{json}{}", std::str::from_utf8(&trailer).unwrap())
}

fn summary_frame(epochs: u32) -> String {
    seal(&format!(
        r#"{{"summary":{{"experiment":"test","epochs":{epochs},"best_epoch":4}},"resources":{{}}}}"#
    ))
}

/// Collects a source's inputs until its end.
fn collect(receiver: &Receiver<Input>) -> Vec<Input> {
    let mut inputs = Vec::new();
    loop {
        let input = receiver
            .recv_timeout(Duration::from_secs(30))
            .expect("the source reports within 30 s");
        let end = matches!(input, Input::End(_));
        inputs.push(input);
        if end {
            return inputs;
        }
    }
}

fn records(inputs: &[Input]) -> Vec<EpochRecord> {
    inputs
        .iter()
        .filter_map(|i| match i {
            Input::Record(r) => Some(*r),
            _ => None,
        })
        .collect()
}

fn count(inputs: &[Input], f: fn(&Input) -> bool) -> usize {
    inputs.iter().filter(|i| f(i)).count()
}

#[test]
fn lines_are_classified_as_frames_records_logs_or_corruption() {
    let r = record(3);
    assert_eq!(classify(&epoch_frame(&r)), Some(Input::Record(r)));
    let json = serde_json::to_string(&r).unwrap();
    assert_eq!(classify(&json), Some(Input::Record(r)));
    assert!(matches!(
        classify(&summary_frame(9)),
        Some(Input::Summary(v)) if v["summary"]["epochs"] == 9
    ));
    // One flipped bit in the JSON: the CRC catches it.
    let damaged = epoch_frame(&r).replacen("\"epoch\":3", "\"epoch\":2", 1);
    assert!(matches!(classify(&damaged), Some(Input::Corrupted(_))));
    // A frame that is good but not ours, noise, a broken JSON line.
    assert!(matches!(
        classify(&seal(r#"{"hello":1}"#)),
        Some(Input::Corrupted(_))
    ));
    assert!(matches!(
        classify("\u{fffd}\u{fffd}x"),
        Some(Input::Corrupted(_))
    ));
    assert!(matches!(classify("{\"epoch\":"), Some(Input::Corrupted(_))));
    // Decoded defmt: epoch lines are records (exact, from bits), the rest is log.
    let line =
        "INFO  epoch 1/20 train_loss=1 train_acc=0.5 val_loss=NaN val_acc=0.25 val_f1=0.2 lr=0.01 \
                bits=0x3f800000,0x3f000000,0xffffffff,0x3e800000,0x3e4ccccd,0x3c23d70a";
    assert!(matches!(classify(line), Some(Input::Record(r)) if r.lr.to_bits() == 0x3c23_d70a));
    assert!(matches!(
        classify("INFO  start experiment=iris epochs=20"),
        Some(Input::Log(_))
    ));
    assert_eq!(classify("\r\n"), None);
}

#[test]
fn epoch_lines_show_the_total_when_known() {
    let r = record(3);
    assert!(epoch_line(&r, Some(10)).starts_with("Epoch 3/10 | Train Loss: 0.3333"));
    assert!(epoch_line(&r, None).starts_with("Epoch 3 | Train Loss: 0.3333"));
}

#[test]
fn state_records_events_and_counts_corruption() {
    let dir = tempfile::tempdir().unwrap();
    let mut state = State::new(
        "test".into(),
        RunDir::create(dir.path(), false, &[]).unwrap(),
        None,
    );
    state
        .apply(Input::Log("INFO  start experiment=x epochs=8".into()))
        .unwrap();
    assert_eq!(state.epochs, Some(8));
    let mut notes = Vec::new();
    for epoch in 1..=8 {
        notes.extend(state.apply(Input::Record(record(epoch))).unwrap());
        if epoch == 5 {
            notes.extend(state.apply(Input::Corrupted("bad CRC".into())).unwrap());
        }
    }
    assert!(notes.contains(&Output::Epoch(epoch_line(&record(8), Some(8)))));
    assert_eq!(state.corrupted, 1);
    assert!(
        state.events.iter().any(|n| n.event.name() == "overfitting"),
        "{:?}",
        state.events
    );
    state
        .apply(Input::Summary(
            serde_json::from_str(frame::open(&summary_frame(8)).unwrap()).unwrap(),
        ))
        .unwrap();
    state.finish(false).unwrap();
    let jsonl = std::fs::read_to_string(dir.path().join("metrics.jsonl")).unwrap();
    assert_eq!(jsonl.lines().count(), 8);
    let events = std::fs::read_to_string(dir.path().join("events.jsonl")).unwrap();
    assert!(events.contains("\"event\":\"overfitting\""), "{events}");
    for name in ["metrics.csv", SUMMARY_JSON, "curves.png", "curves.svg"] {
        assert!(dir.path().join(name).is_file(), "{name}");
    }
}

#[test]
fn replay_of_a_file_mixes_formats_and_counts_bad_lines() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("log.txt");
    let mut text = String::new();
    for epoch in 1..=3 {
        text.push_str(&epoch_frame(&record(epoch)));
    }
    text.push_str("garbage\n");
    text.push_str(&serde_json::to_string(&record(4)).unwrap());
    text.push('\n');
    std::fs::write(&input, text).unwrap();
    let out = dir.path().join("out");
    crate::cli::run([
        "tinytrain".as_ref(),
        "monitor".as_ref(),
        input.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
        "--no-plot".as_ref(),
    ])
    .unwrap();
    let expected: String = (1..=4)
        .map(|e| serde_json::to_string(&record(e)).unwrap() + "\n")
        .collect();
    assert_eq!(
        std::fs::read_to_string(out.join("metrics.jsonl")).unwrap(),
        expected
    );
}

#[test]
fn the_default_directory_names_the_source() {
    let args = |argv: &[&str]| {
        let cli = crate::cli::Cli::try_parse_from(argv).unwrap();
        match cli.command {
            crate::cli::Command::Monitor(args) => args,
            _ => unreachable!(),
        }
    };
    use clap::Parser;
    assert_eq!(
        default_dir(&args(&[
            "tinytrain",
            "monitor",
            "runs/iris-seed1/metrics.jsonl"
        ])),
        Path::new("runs/monitor-iris-seed1")
    );
    assert_eq!(
        default_dir(&args(&["tinytrain", "monitor", "--serial", "/dev/ttyACM0"])),
        Path::new("runs/monitor-ttyACM0")
    );
    assert!(crate::cli::Cli::try_parse_from(["tinytrain", "monitor"]).is_err());
    assert!(crate::cli::Cli::try_parse_from(["tinytrain", "monitor", "--probe", "x.elf"]).is_err());
    // --machine is for --qemu only: with a file or a port it would be ignored.
    for source in [&["run.jsonl"][..], &["--serial", "/dev/ttyACM0"]] {
        let argv = [
            &["tinytrain", "monitor"][..],
            source,
            &["--machine", "mps2-an386"],
        ]
        .concat();
        assert!(crate::cli::Cli::try_parse_from(argv).is_err(), "{source:?}");
    }
}

/// The device side of a connection: waits for the start byte, sends `lines`, and, with `ack`,
/// waits for the acknowledgement.
fn device(port: &mut (impl Read + Write), lines: &[String], ack: bool) {
    let mut byte = [0u8];
    port.read_exact(&mut byte).unwrap();
    assert_eq!(byte[0], HANDSHAKE_START);
    for line in lines {
        port.write_all(line.as_bytes()).unwrap();
    }
    port.flush().unwrap();
    if ack {
        // Skip repeated start bytes.
        loop {
            port.read_exact(&mut byte).unwrap();
            if byte[0] != HANDSHAKE_START {
                break;
            }
        }
        assert_eq!(byte[0], HANDSHAKE_ACK);
    }
}

/// The frames of an 8-epoch run, split at a disconnect after epoch 3 that cuts epoch 4's frame.
fn split_run() -> (Vec<String>, Vec<String>) {
    let frames: Vec<String> = (1..=8).map(|e| epoch_frame(&record(e))).collect();
    let mut first: Vec<String> = frames[..3].to_vec();
    first.push(frames[3][..20].to_owned()); // cut off by the disconnect
    let mut second: Vec<String> = frames[3..].to_vec();
    second.push(summary_frame(8));
    (first, second)
}

/// Collects the source's inputs until its end, stops it, and checks that all 8 epochs came.
fn check_reconnected(
    source: Source,
    receiver: &Receiver<Input>,
    device: std::thread::JoinHandle<()>,
) {
    let inputs = &collect(receiver);
    device.join().unwrap();
    drop(source);
    let got = records(inputs);
    assert_eq!(got, (1..=8).map(record).collect::<Vec<_>>(), "{inputs:#?}");
    assert_eq!(
        count(inputs, |i| matches!(i, Input::Connected(_))),
        2,
        "{inputs:#?}"
    );
    assert!(count(inputs, |i| matches!(i, Input::Disconnected(_))) >= 1);
    assert_eq!(
        count(inputs, |i| matches!(i, Input::Corrupted(_))),
        1,
        "{inputs:#?}"
    );
    assert_eq!(count(inputs, |i| matches!(i, Input::Summary(_))), 1);
    assert_eq!(inputs.last(), Some(&Input::End(Ok(()))));
}

#[test]
fn a_unix_socket_that_drops_is_reopened_and_nothing_else_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("device.sock");
    let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
    let (first, second) = split_run();
    let server = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        device(&mut stream, &first, false);
        drop(stream); // the device goes away...
        std::thread::sleep(Duration::from_millis(100));
        let (mut stream, _) = listener.accept().unwrap(); // ...and comes back
        device(&mut stream, &second, true);
    });
    let (sender, receiver) = mpsc::channel();
    let source = Source::serial(&path, 115_200, Duration::from_millis(20), None, sender);
    check_reconnected(source, &receiver, server);
}

#[test]
fn a_pty_that_closes_and_reappears_is_reopened() {
    use serialport::{SerialPort, TTYPort};
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("ttyDEVICE");
    // A device on a pty; the monitor opens the slave by a stable name (a symlink, as udev makes).
    // The device keeps a slave open too: reading a master without any open slave fails (EIO).
    let plug = |link: &Path| -> (TTYPort, TTYPort) {
        let (mut master, slave) = TTYPort::pair().unwrap();
        master.set_timeout(Duration::from_secs(20)).unwrap();
        let name = slave.name().unwrap();
        let _ = std::fs::remove_file(link);
        std::os::unix::fs::symlink(name, link).unwrap();
        (master, slave)
    };
    let (first, second) = split_run();
    let (mut master, slave) = plug(&link);
    let (sender, receiver) = mpsc::channel();
    let source = Source::serial(&link, 115_200, Duration::from_millis(20), None, sender);
    let link_for_device = link.clone();
    let device_thread = std::thread::spawn(move || {
        device(&mut master, &first, false);
        // Let the monitor read the bytes before the pty disappears with its buffer.
        std::thread::sleep(Duration::from_millis(300));
        drop((master, slave)); // unplugged: the monitor's reads fail
        std::thread::sleep(Duration::from_millis(200));
        // Plugged in again, under a new /dev/pts/N.
        let (mut master, _slave) = plug(&link_for_device);
        device(&mut master, &second, true);
        std::thread::sleep(Duration::from_millis(100));
    });
    check_reconnected(source, &receiver, device_thread);
}

#[test]
fn a_port_that_never_opens_is_reported_and_retried_until_stopped() {
    let (sender, receiver) = mpsc::channel();
    let source = Source::serial(
        Path::new("/nonexistent/ttyUSB9"),
        115_200,
        Duration::from_millis(10),
        None,
        sender,
    );
    let first = receiver.recv_timeout(Duration::from_secs(5)).unwrap();
    assert!(
        matches!(first, Input::Disconnected(ref why) if why.contains("cannot open")),
        "{first:?}"
    );
    // Reported once, not on every attempt.
    std::thread::sleep(Duration::from_millis(100));
    assert!(receiver.try_recv().is_err());
    drop(source);
    assert!(matches!(
        receiver.recv_timeout(Duration::from_secs(5)),
        Ok(Input::End(Ok(())))
    ));
}

/// Collects a source's inputs until its end, with the time that took.
fn collect_timed(receiver: &Receiver<Input>) -> (Vec<Input>, Duration) {
    let start = std::time::Instant::now();
    let inputs = collect(receiver);
    (inputs, start.elapsed())
}

fn end_error(inputs: &[Input]) -> &str {
    match inputs.last() {
        Some(Input::End(Err(why))) => why,
        other => panic!("the source ended with {other:?}, not an error: {inputs:#?}"),
    }
}

#[test]
fn a_silent_port_times_out_from_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("silent.sock");
    let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
    // Accepts, and says nothing (noise does not count as a frame).
    let device = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream.write_all(b"\x00\xff garbage\n").unwrap();
        let mut sink = Vec::new();
        let _ = stream.read_to_end(&mut sink);
    });
    let (sender, receiver) = mpsc::channel();
    let timeout = Duration::from_millis(400);
    let source = Source::serial(
        &path,
        115_200,
        Duration::from_millis(20),
        Some(timeout),
        sender,
    );
    let (inputs, took) = collect_timed(&receiver);
    drop(source);
    device.join().unwrap();
    let why = end_error(&inputs);
    assert!(
        why.contains(&path.display().to_string())
            && why.contains("for 0.4 s since the monitor started"),
        "{why}"
    );
    assert!(took >= timeout && took < Duration::from_secs(5), "{took:?}");
    assert_eq!(count(&inputs, |i| matches!(i, Input::Corrupted(_))), 1);
}

#[test]
fn a_port_that_falls_silent_times_out_after_its_last_frame() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("device.sock");
    let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
    let timeout = Duration::from_millis(600);
    // Three epochs 300 ms apart (each within the timeout of the one before), then silence.
    let device = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        for epoch in 1..=3 {
            std::thread::sleep(Duration::from_millis(300));
            stream
                .write_all(epoch_frame(&record(epoch)).as_bytes())
                .unwrap();
        }
        let last = std::time::Instant::now();
        let mut sink = Vec::new();
        let _ = stream.read_to_end(&mut sink);
        last.elapsed()
    });
    let (sender, receiver) = mpsc::channel();
    let source = Source::serial(
        &path,
        115_200,
        Duration::from_millis(20),
        Some(timeout),
        sender,
    );
    let inputs = collect(&receiver);
    drop(source);
    let silent_for = device.join().unwrap();
    assert_eq!(records(&inputs), (1..=3).map(record).collect::<Vec<_>>());
    let why = end_error(&inputs);
    assert!(why.contains("for 0.6 s since the last one"), "{why}");
    assert!(silent_for >= timeout, "{silent_for:?}");
}

#[test]
fn a_port_that_never_opens_times_out() {
    let (sender, receiver) = mpsc::channel();
    let timeout = Duration::from_millis(300);
    let path = Path::new("/nonexistent/ttyUSB9");
    // Retries slower than the timeout: the timeout still ends it on time.
    let source = Source::serial(
        path,
        115_200,
        Duration::from_secs(10),
        Some(timeout),
        sender,
    );
    let (inputs, took) = collect_timed(&receiver);
    drop(source);
    let why = end_error(&inputs);
    assert!(
        why.contains("no frame from /nonexistent/ttyUSB9 for 0.3 s")
            && why.contains("the port does not open"),
        "{why}"
    );
    assert!(took >= timeout && took < Duration::from_secs(3), "{took:?}");
}

#[test]
fn timeout_takes_positive_seconds_and_needs_serial() {
    use clap::Parser;
    let parse = |argv: &[&str]| crate::cli::Cli::try_parse_from(argv);
    let timeout = |argv: &[&str]| match parse(argv).unwrap().command {
        crate::cli::Command::Monitor(args) => args.timeout,
        _ => unreachable!(),
    };
    let serial = ["tinytrain", "monitor", "--serial", "/dev/ttyACM0"];
    assert_eq!(timeout(&serial), None);
    assert_eq!(
        timeout(&[&serial[..], &["--timeout", "2.5"]].concat()),
        Some(Duration::from_millis(2500))
    );
    for bad in ["0", "-1", "soon", "inf"] {
        assert!(
            parse(&[&serial[..], &["--timeout", bad]].concat()).is_err(),
            "{bad}"
        );
    }
    assert!(parse(&[
        "tinytrain",
        "monitor",
        "run/metrics.jsonl",
        "--timeout",
        "1"
    ])
    .is_err());
}
