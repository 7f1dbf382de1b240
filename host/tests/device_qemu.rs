//! `tinytrain train --device`: a user's CSV trained on a board (QEMU here) writes the same run
//! directory as `tinytrain train` with the same options, byte for byte, and the command itself says
//! `device ≡ host: N/N epochs bit-identical`.
//!
//! The `tinytrain` binary runs as a user runs it, with its firmware cache in cargo's temporary
//! directory (the first test to build pays for the firmware's dependencies; later builds only
//! recompile the generated experiment).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The files that must be byte-identical between `train` and `train --device`.
const SAME_FILES: [&str; 5] = [
    "metrics.jsonl",
    "metrics.csv",
    "events.jsonl",
    "weights.json",
    "init.json",
];

/// `true` (after a line saying so) when `qemu-system-arm` is missing outside CI; with `CI` set a
/// missing QEMU fails the test.
fn qemu_missing(test: &str) -> bool {
    let found = Command::new("qemu-system-arm")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found && std::env::var_os("CI").is_some() {
        panic!("{test}: CI is set and qemu-system-arm is not installed (scripts/setup)");
    }
    if !found {
        eprintln!("skipped {test}: qemu-system-arm is not installed (apt-get install qemu-system-arm, or run scripts/test)");
    }
    !found
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Runs `tinytrain ARGS` from the project root, its firmware cache in cargo's temporary directory.
fn tinytrain(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tinytrain"))
        .args(args)
        .current_dir(root())
        .env(
            "TINYTRAIN_CACHE",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("device-cache"),
        )
        .output()
        .expect("tinytrain runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Trains `data` with `options` on the host and on `board`; checks that the run directories'
/// files are byte-identical and that the device run ends with the verification line. Returns the
/// device's run directory.
fn same_on_device(data: &Path, options: &str, board: &str, out: &Path) -> PathBuf {
    let data = data.to_str().unwrap();
    let options: Vec<&str> = options.split_whitespace().collect();
    let (host, device) = (out.join("host"), out.join("device"));
    let run = |dir: &Path, extra: &[&str]| {
        let mut args = vec!["train", "--data", data, "--no-plot", "--out"];
        args.push(dir.to_str().unwrap());
        args.extend(&options);
        args.extend(extra);
        let output = tinytrain(&args);
        assert!(
            output.status.success(),
            "tinytrain {}: {}",
            args.join(" "),
            text(&output.stderr)
        );
        output
    };
    run(&host, &[]);
    let output = run(&device, &["--device", board, "--plain"]);
    let stdout = text(&output.stdout);
    let epochs = std::fs::read_to_string(host.join("metrics.jsonl"))
        .unwrap()
        .lines()
        .count();
    let verdict = format!("device ≡ host: {epochs}/{epochs} epochs bit-identical");
    assert_eq!(stdout.lines().last(), Some(verdict.as_str()), "{stdout}");
    for file in SAME_FILES {
        let read = |dir: &Path| {
            std::fs::read(dir.join(file))
                .unwrap_or_else(|e| panic!("{}: {e}", dir.join(file).display()))
        };
        assert!(
            read(&host) == read(&device),
            "{file} differs between host and {board}"
        );
    }
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(device.join("device.json")).unwrap())
            .unwrap();
    assert_eq!(json["board"], board_name(board));
    assert_eq!(json["epochs_received"], epochs);
    assert!(
        json["measured"]["stack_peak"].as_u64().unwrap() > 0,
        "{json}"
    );
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(device.join("manifest.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["device"]["board"], board_name(board));
    device
}

fn board_name(board: &str) -> &str {
    if board == "qemu" {
        "mps2-an386"
    } else {
        board
    }
}

macro_rules! bundled {
    ($test:ident, $file:literal, $options:literal) => {
        /// A bundled CSV with README's settings.
        #[test]
        fn $test() {
            if qemu_missing(stringify!($test)) {
                return;
            }
            let out = tempfile::tempdir().unwrap();
            same_on_device(
                &root().join("data").join($file),
                $options,
                "qemu",
                out.path(),
            );
        }
    };
}

bundled!(digits_with_the_defaults, "digits.csv", "");
bundled!(
    iris_as_in_the_readme,
    "iris.csv",
    "--hidden 64,32 --batch 16 --epochs 200"
);
bundled!(wine_with_the_defaults, "wine.csv", "");
bundled!(
    breast_cancer_binary_with_the_defaults,
    "breast_cancer.csv",
    ""
);
bundled!(
    diabetes_regression_as_in_the_readme,
    "diabetes.csv",
    "--hidden 32 --dropout 0.2 --epochs 25"
);

/// The host's class mapping of the cultivar names (sorted), which the device's class bytes follow.
const CLASS_NAMES: &str = r#""class_names": ["barbera", "barolo", "grignolino"]"#;

/// Every optimiser, schedule and option the device honours, run on the device, is in
/// `tests/tests/device_optimizers_qemu.rs`.
/// Wine with its classes as names and the label column first: the device maps them as the host.
#[test]
fn string_labels_in_the_first_column() {
    if qemu_missing("string_labels_in_the_first_column") {
        return;
    }
    let out = tempfile::tempdir().unwrap();
    let wine = std::fs::read_to_string(root().join("data/wine.csv")).unwrap();
    let names = ["barolo", "grignolino", "barbera"];
    let mut csv = String::new();
    for (i, line) in wine.lines().enumerate() {
        let (features, label) = line.rsplit_once(',').unwrap();
        let label = if i == 0 {
            "cultivar"
        } else {
            names[label.parse::<usize>().unwrap()]
        };
        csv.push_str(&format!("{label},{features}\n"));
    }
    let path = out.path().join("cultivars.csv");
    std::fs::write(&path, csv).unwrap();
    let device = same_on_device(
        &path,
        "--label cultivar --hidden 12 --epochs 8 --optimizer sgd --lr 0.05 --momentum 0.9",
        "qemu",
        out.path(),
    );
    let manifest = std::fs::read_to_string(device.join("manifest.json")).unwrap();
    assert!(manifest.contains(CLASS_NAMES), "{manifest}");
}

/// Plain SGD at batch 1 on the device: the generated workspace has no gradient buffer (the fit
/// check counts none, and the device's statics are the network without gradients plus the split),
/// and every file equals the host's run.
#[test]
fn fused_sgd_trains_on_the_device_without_gradients() {
    if qemu_missing("fused_sgd_trains_on_the_device_without_gradients") {
        return;
    }
    let out = tempfile::tempdir().unwrap();
    let device = same_on_device(
        &root().join("data/iris.csv"),
        "--hidden 16 --epochs 4 --optimizer sgd --batch 1 --lr 0.05",
        "qemu",
        out.path(),
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(device.join("device.json")).unwrap())
            .unwrap();
    let items = &json["predicted"]["items"];
    assert_eq!(items["gradients"], 0, "{json}");
    assert_eq!(items["optimizer_state"], 0, "{json}");
    // 4 → 16 (ReLU, dropout) → 3: 131 parameters, 4 + 16 + 16 + 16 + 3 activations, 2 × 16 deltas,
    // one mask word; no gradients (they would be 524 B more).
    assert_eq!(items["network"], 4 * (131 + 55 + 32 + 1), "{json}");
    let statics = json["measured"]["static_ram"].as_u64().unwrap();
    let workspace = items["network"].as_u64().unwrap() + items["split_indices"].as_u64().unwrap();
    assert!(
        (workspace..workspace + 64).contains(&statics),
        "statics {statics} B for a workspace of {workspace} B: {json}"
    );
}

/// Several regression targets (`--targets`) on the device: its table holds both petal
/// measurements per row, it standardises each by its own statistics fitted on its training rows,
/// and every epoch (errors in standard deviations, as the host's) is bit for bit the host's.
#[test]
fn several_targets_train_on_the_device_as_on_the_host() {
    if qemu_missing("several_targets_train_on_the_device_as_on_the_host") {
        return;
    }
    let out = tempfile::tempdir().unwrap();
    let device = same_on_device(
        &root().join("data/iris.csv"),
        "--targets petal_length_cm,petal_width_cm --ignore label --hidden 8 --epochs 5",
        "qemu",
        out.path(),
    );
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(device.join("manifest.json")).unwrap())
            .unwrap();
    assert_eq!(
        manifest["normalization"]["target_mean"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // Each target's errors, of the device's model: the host's run's, to the bit.
    let each = |dir: &Path| std::fs::read_to_string(dir.join("targets.json")).unwrap();
    assert_eq!(each(&device), each(&out.path().join("host")));
}

/// Learning after deployment on the device (acceptance 2 and 3 of the issue): a model trained on
/// the host on digits 0–4 ships to the board (`--init`, built into flash), and the board trains a
/// new 10-class head on all digits with the first layer frozen, every epoch bit for bit the host's.
/// The same run without `--freeze` measures what freezing saves on the device: the statics differ
/// by the frozen layer's parameters (read in place from the shipped model in flash), gradients and
/// two Adam moments, 64·32 + 32 = 2,080 floats × 4.
#[test]
fn a_new_head_on_a_frozen_shipped_layer_trains_on_the_device_as_on_the_host() {
    if qemu_missing("a_new_head_on_a_frozen_shipped_layer_trains_on_the_device_as_on_the_host") {
        return;
    }
    let out = tempfile::tempdir().unwrap();
    let init = digits_0_to_4_model(out.path());
    let options = format!("--hidden 32 --epochs 3 --init {}", init.display());
    let digits = root().join("data/digits.csv");
    let frozen = same_on_device(
        &digits,
        &format!("{options} --freeze 0"),
        "qemu",
        &out.path().join("frozen"),
    );
    let full = same_on_device(&digits, &options, "qemu", &out.path().join("full"));
    let json = |dir: &Path| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(dir.join("device.json")).unwrap()).unwrap()
    };
    let (frozen, full) = (json(&frozen), json(&full));
    let statics = |j: &serde_json::Value| j["measured"]["static_ram"].as_u64().unwrap();
    let total = |j: &serde_json::Value| j["measured"]["ram_total"].as_u64().unwrap();
    eprintln!(
        "digits 64→32→10, Adam, layer 0 frozen: RAM on the device {} B (statics {} B) instead of {} B (statics {} B)",
        total(&frozen), statics(&frozen), total(&full), statics(&full)
    );
    assert_eq!(
        statics(&full) - statics(&frozen),
        4 * 2080 * 4,
        "{frozen}\n{full}"
    );
    // What the host predicted for the network's buffers leaves the frozen parameters out too.
    let network = |j: &serde_json::Value| j["predicted"]["items"]["network"].as_u64().unwrap();
    assert_eq!(
        network(&full) - network(&frozen),
        4 * 2080,
        "{frozen}\n{full}"
    );
    assert_eq!(frozen["predicted"]["items"]["gradients"], 4 * 330);
    assert_eq!(frozen["predicted"]["items"]["optimizer_state"], 4 * 660);
}

/// Writes digits.csv's rows of classes 0–4 to `dir`/digits-0-4.csv and trains the shipped model on
/// them (64→32→10, 5 epochs, on the host); returns its weights.json.
fn digits_0_to_4_model(dir: &Path) -> PathBuf {
    let digits = std::fs::read_to_string(root().join("data/digits.csv")).unwrap();
    let five: Vec<&str> = digits
        .lines()
        .enumerate()
        .filter(|(i, line)| *i == 0 || line.rsplit(',').next().unwrap().parse::<u32>().unwrap() < 5)
        .map(|(_, line)| line)
        .collect();
    let few = dir.join("digits-0-4.csv");
    std::fs::write(&few, five.join("\n") + "\n").unwrap();
    let shipped = dir.join("five");
    let base = tinytrain(&[
        "train",
        "--data",
        few.to_str().unwrap(),
        "--hidden",
        "32",
        "--epochs",
        "5",
        "--no-plot",
        "--quiet",
        "--out",
        shipped.to_str().unwrap(),
    ]);
    assert!(base.status.success(), "{}", text(&base.stderr));
    shipped.join("weights.json")
}

/// Runs `tinytrain train OPTIONS --device qemu --stream` into `out` and checks its verdicts: every
/// one of the `epochs` epochs and every parameter as the host's replay. Returns its stdout.
fn streamed(options: &[&str], epochs: usize, out: &Path) -> String {
    let mut args = vec!["train"];
    args.extend(options);
    args.extend([
        "--device",
        "qemu",
        "--stream",
        "--plain",
        "--no-plot",
        "--out",
    ]);
    args.push(out.to_str().unwrap());
    let output = tinytrain(&args);
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", text(&output.stderr));
    let verdict = format!("device ≡ host: {epochs}/{epochs} epochs bit-identical");
    assert_eq!(stdout.lines().last(), Some(verdict.as_str()), "{stdout}");
    assert!(
        stdout.contains("device weights ≡ host replay: every parameter equal"),
        "{stdout}"
    );
    stdout
}

/// Acceptance 3 of "learning after deployment", on the device: the digits 0–4 model ships (built
/// in, in flash) with a new 10-class head and layer 0 frozen; the host streams all ten digits'
/// training rows over QEMU's UART, and the device learns them as they arrive. Every epoch record
/// and every parameter the device sends equal the host's replay of the same stream, layer 0 keeps
/// the shipped bits, the firmware holds no data, and the validation accuracy rises.
#[test]
fn a_shipped_model_learns_a_stream_on_the_device_as_the_host_replays_it() {
    if qemu_missing("a_shipped_model_learns_a_stream_on_the_device_as_the_host_replays_it") {
        return;
    }
    let out = tempfile::tempdir().unwrap();
    let init = digits_0_to_4_model(out.path());
    let run = out.path().join("stream");
    let stdout = streamed(
        &[
            "--data",
            "data/digits.csv",
            "--hidden",
            "32",
            "--epochs",
            "2",
            "--init",
            init.to_str().unwrap(),
            "--freeze",
            "0",
        ],
        2,
        &run,
    );
    let accuracy = stdout
        .lines()
        .find_map(|l| {
            l.strip_prefix(
                "validation accuracy (359 rows, scored on the host with the replay's model): ",
            )
        })
        .unwrap_or_else(|| panic!("{stdout}"));
    let percents: Vec<f32> = accuracy
        .split('%')
        .filter_map(|part| part.rsplit(' ').next()?.parse().ok())
        .collect();
    eprintln!("digits stream, new head on frozen layer 0, 2 epochs: {accuracy}");
    assert!(
        percents.len() == 2 && percents[1] > percents[0] + 10.0,
        "{accuracy}"
    );
    let json = |path: PathBuf| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    };
    let (shipped, trained) = (json(init), json(run.join("weights.json")));
    assert_eq!(
        shipped["layers"][0], trained["layers"][0],
        "the frozen layer changed"
    );
    assert_ne!(
        shipped["layers"][1]["weight"],
        trained["layers"][1]["weight"]
    );
    let device = json(run.join("device.json"));
    assert_eq!(device["predicted"]["items"]["data"], 0, "{device}");
    assert_eq!(device["epochs_received"], 2);
    let records = std::fs::read_to_string(run.join("metrics.jsonl")).unwrap();
    assert_eq!(records.lines().count(), 2);
}

/// Acceptance 4 on the device: an autoencoder of benign tumours (breast_cancer, label 1) learns
/// from a stream on the Cortex-M4F, takes its threshold as the 0.95 quantile of the validation
/// rows' reconstruction errors, and flags the held-out rows: every epoch, every parameter, the
/// threshold's bits and the flag's hits equal the host's replay; the error curve falls; the flag
/// finds most malignant rows and few benign ones.
#[test]
fn an_autoencoder_on_the_device_flags_anomalies_as_the_host_replays_it() {
    if qemu_missing("an_autoencoder_on_the_device_flags_anomalies_as_the_host_replays_it") {
        return;
    }
    let out = tempfile::tempdir().unwrap();
    let run = out.path().join("ae");
    let stdout = streamed(
        &[
            "--data",
            "data/breast_cancer.csv",
            "--task",
            "autoencoder",
            "--normal",
            "1",
            "--hidden",
            "8",
            "--epochs",
            "10",
        ],
        10,
        &run,
    );
    let line = stdout
        .lines()
        .find(|l| l.starts_with("anomaly threshold "))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(line.ends_with("— ≡ host replay"), "{line}");
    eprintln!("{line}");
    let threshold: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("threshold.json")).unwrap())
            .unwrap();
    let count = |key: &str| threshold[key].as_u64().unwrap();
    // 71 held-out benign rows scored for the threshold, then flagged with the 212 malignant ones.
    assert_eq!(count("validation_rows"), 71);
    assert_eq!(count("true_positives") + count("false_negatives"), 212);
    assert_eq!(count("false_positives") + count("true_negatives"), 71);
    let (precision, recall) = (
        threshold["precision"].as_f64().unwrap(),
        threshold["recall"].as_f64().unwrap(),
    );
    assert!(precision > 0.9 && recall > 0.6, "{threshold}");
    let errors: Vec<f64> = std::fs::read_to_string(run.join("metrics.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["train_loss"]
                .as_f64()
                .unwrap()
        })
        .collect();
    assert!(
        errors.windows(2).all(|w| w[1] < w[0]) && errors[9] < 0.85 * errors[0],
        "{errors:?}"
    );
}

/// Acceptance 1 through the device: without shuffling, the stream sends the training rows in the
/// order the epoch loop takes them, so the device (an STM32F405 under QEMU) learning them as they
/// arrive ends with `tinytrain train`'s weights, bit for bit, and the same training loss and
/// accuracy each epoch.
#[test]
fn an_unshuffled_stream_on_the_device_equals_the_host_epoch_loop() {
    if qemu_missing("an_unshuffled_stream_on_the_device_equals_the_host_epoch_loop") {
        return;
    }
    let out = tempfile::tempdir().unwrap();
    let options = [
        "--data",
        "data/iris.csv",
        "--hidden",
        "16",
        "--epochs",
        "3",
        "--no-shuffle",
        "--batch",
        "4",
        "--no-plot",
        "--quiet",
    ];
    let train = |dir: &str, extra: &[&str]| {
        let dir = out.path().join(dir);
        let mut args = vec!["train", "--out", dir.to_str().unwrap()];
        args.extend(options);
        args.extend(extra);
        let output = tinytrain(&args);
        assert!(
            output.status.success(),
            "{args:?}: {}",
            text(&output.stderr)
        );
        dir
    };
    let host = train("host", &[]);
    // The STM32's USART (QEMU's netduinoplus2), which drops what comes before its receiver is on:
    // the host waits for the device's ready frame.
    let device = train("device", &["--device", "netduinoplus2", "--stream"]);
    let read = |dir: &Path, file: &str| std::fs::read_to_string(dir.join(file)).unwrap();
    let layers = |dir: &Path| -> serde_json::Value {
        serde_json::from_str::<serde_json::Value>(&read(dir, "weights.json")).unwrap()["layers"]
            .clone()
    };
    assert_eq!(layers(&host), layers(&device));
    let trained = |dir: &Path| -> Vec<(serde_json::Value, serde_json::Value)> {
        read(dir, "metrics.jsonl")
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                (v["train_loss"].clone(), v["train_acc"].clone())
            })
            .collect()
    };
    assert_eq!(trained(&host), trained(&device));
    assert_eq!(trained(&host).len(), 3);
}

/// A board that already runs the stream firmware, on a serial port: `--device qemu --stream
/// --build-only` builds it, QEMU runs it with its UART on a pty (as a USB serial adapter would
/// show a board's), and `--stream --port PTY` streams the rows to it and reads its epochs back:
/// the run equals the one where tinytrain starts QEMU itself, file for file.
#[test]
fn a_stream_goes_to_a_board_on_a_serial_port() {
    if qemu_missing("a_stream_goes_to_a_board_on_a_serial_port") {
        return;
    }
    let out = tempfile::tempdir().unwrap();
    let options = [
        "--data",
        "data/iris.csv",
        "--hidden",
        "8",
        "--epochs",
        "3",
        "--stream",
        "--no-plot",
        "--plain",
    ];
    let train = |extra: &[&str]| {
        let mut args = vec!["train"];
        args.extend(options);
        args.extend(extra);
        let output = tinytrain(&args);
        assert!(
            output.status.success(),
            "{args:?}: {}",
            text(&output.stderr)
        );
        text(&output.stdout)
    };
    let dir = |name: &str| out.path().join(name).to_str().unwrap().to_owned();
    let built = dir("built");
    train(&["--device", "qemu", "--build-only", "--out", &built]);
    let elf = Path::new(&built).join("device.elf");
    let (mut qemu, pty) = tinytrain_host::qemu::on_a_pty("mps2-an386", &elf).unwrap();
    let stdout = train(&["--port", &pty, "--out", &dir("port")]);
    assert_eq!(
        stdout.lines().last(),
        Some("device ≡ host: 3/3 epochs bit-identical"),
        "{stdout}"
    );
    let status = qemu.wait().unwrap();
    assert!(status.success(), "QEMU exited with {status}");
    train(&["--device", "qemu", "--out", &dir("qemu")]);
    for file in ["metrics.jsonl", "weights.json", "init.json"] {
        let read = |run: &str| std::fs::read(Path::new(&dir(run)).join(file)).unwrap();
        assert!(read("port") == read("qemu"), "{file} differs");
    }
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(Path::new(&dir("port")).join("manifest.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(manifest["device"]["port"], pty.as_str());
}

/// `--batch-norm` on the device (batches of 8 held in RAM, the batch-major engine): every epoch,
/// weights.json with the batch norm's running statistics, and init.json as the host's; then
/// `--init` from that weights.json carries its running statistics onto the device.
#[test]
fn batch_norm_trains_on_the_device_as_on_the_host() {
    if qemu_missing("batch_norm_trains_on_the_device_as_on_the_host") {
        return;
    }
    let out = tempfile::tempdir().unwrap();
    let iris = root().join("data/iris.csv");
    let options = "--hidden 16 --batch-norm --batch 8 --epochs 4";
    let device = same_on_device(&iris, options, "qemu", &out.path().join("first"));
    let weights: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(device.join("weights.json")).unwrap())
            .unwrap();
    let bn = &weights["layers"][1];
    assert_eq!(bn["kind"], "batch_norm");
    assert_eq!(bn["running_var"].as_array().unwrap().len(), 16);
    assert_ne!(bn["running_mean"][0], 0.0, "the running mean moved");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(device.join("device.json")).unwrap())
            .unwrap();
    // 4 → 16 (batch norm, ReLU, dropout) → 3 for 8 samples at once: 163 parameters, 8 × (4 + 4·16
    // + 3) activations, 8 × 2 × 16 deltas, 8 mask words, 6 × 16 statistics.
    assert_eq!(
        json["predicted"]["items"]["network"],
        4 * (163 + 8 * 71 + 8 * 32 + 8 + 96),
        "{json}"
    );
    let init = format!("{options} --init {}", device.join("weights.json").display());
    same_on_device(&iris, &init, "qemu", &out.path().join("again"));
}

/// Early stopping on the device: the same stopping epoch, restored weights and events.jsonl.
#[test]
fn early_stopping_restores_the_same_best_epoch() {
    if qemu_missing("early_stopping_restores_the_same_best_epoch") {
        return;
    }
    let out = tempfile::tempdir().unwrap();
    let device = same_on_device(
        &root().join("data/iris.csv"),
        "--early-stopping --patience 3 --epochs 200 --lr 0.01",
        "qemu",
        out.path(),
    );
    let events = std::fs::read_to_string(device.join("events.jsonl")).unwrap();
    let stop = events
        .lines()
        .find(|l| l.contains("early_stopping"))
        .expect("an early_stopping line");
    assert!(stop.contains(r#""stopped":true"#), "{stop}");
    let epochs = std::fs::read_to_string(device.join("metrics.jsonl"))
        .unwrap()
        .lines()
        .count();
    assert!(epochs < 200, "early stopping stopped at {epochs}");
    // The device restored an earlier epoch's weights: its weights.json (byte-identical to the
    // host's, `same_on_device`) is that epoch's, not the last epoch's.
    let stop: serde_json::Value = serde_json::from_str(stop).unwrap();
    let restored = stop["restored_epoch"].as_u64().unwrap();
    assert_eq!(stop["restored_epoch"], stop["best_epoch"], "{stop}");
    assert!(
        (restored as usize) < epochs,
        "restored epoch {restored} of {epochs}: {stop}"
    );
    let host_last_epoch = out.path().join("last-epoch");
    let weights_of = |dir: &Path| std::fs::read(dir.join("weights.json")).unwrap();
    let output = tinytrain(&[
        "train",
        "--data",
        root().join("data/iris.csv").to_str().unwrap(),
        "--no-plot",
        "--epochs",
        &epochs.to_string(),
        "--lr",
        "0.01",
        "--out",
        host_last_epoch.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_ne!(
        weights_of(&device),
        weights_of(&host_last_epoch),
        "the device's weights are the last epoch's, not the restored best"
    );
}

/// The fit check: a run too large for netduinoplus2's 128 KiB of RAM fails before anything is
/// built, naming the numbers and what to change; one that fits runs there, bit-identical.
#[test]
fn the_fit_check_refuses_what_netduinoplus2_cannot_hold() {
    if qemu_missing("the_fit_check_refuses_what_netduinoplus2_cannot_hold") {
        return;
    }
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("too-big");
    let output = tinytrain(&[
        "train",
        "--data",
        "data/digits.csv",
        "--hidden",
        "128,128",
        "--device",
        "netduinoplus2",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    assert!(
        stderr
            .contains("--device netduinoplus2: the run does not fit the board (nothing was built)"),
        "{stderr}"
    );
    assert!(stderr.contains("RAM: the run needs 432.0 KiB but netduinoplus2 has 128.0 KiB (304.0 KiB over): network 106.4 KiB, gradients 102.0 KiB, optimiser state 204.1 KiB, split indices 3.5 KiB, firmware and stack 16.0 KiB.\n  To fit: smaller --hidden layers; --optimizer sgd without --momentum (no optimiser state; Adam keeps 2 floats per parameter); plain SGD with --batch 1 (fused into the backward pass, it keeps no gradients)"), "{stderr}");
    assert!(!stderr.contains("building"), "{stderr}");
    assert!(!dir.exists(), "a refused run leaves no run directory");

    same_on_device(
        &root().join("data/iris.csv"),
        "--hidden 16 --epochs 5",
        "netduinoplus2",
        out.path(),
    );
}

/// A probe-rs board without a board attached: `--build-only` builds its firmware (defmt over RTT)
/// into the run directory; without it and without the `probe` feature the run is refused before
/// anything is built.
#[test]
fn a_probe_board_builds_without_a_board() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("f411");
    let output = tinytrain(&[
        "train",
        "--data",
        "data/iris.csv",
        "--epochs",
        "3",
        "--device",
        "stm32f411",
        "--build-only",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let elf = std::fs::read(dir.join("device.elf")).unwrap();
    // STM32 flash starts at 0x0800_0000: the ELF's entry point is there.
    let entry = u32::from_le_bytes(elf[24..28].try_into().unwrap());
    assert_eq!(entry & 0xff00_0000, 0x0800_0000, "entry {entry:#x}");
    let manifest = std::fs::read_to_string(dir.join("manifest.json")).unwrap();
    assert!(
        manifest.contains(r#""chip": "STM32F411CEUx""#),
        "{manifest}"
    );
    assert!(text(&output.stderr).contains("probe-rs run --chip STM32F411CEUx"));
    if !cfg!(feature = "probe") {
        let output = tinytrain(&["train", "--data", "data/iris.csv", "--device", "nrf52840"]);
        assert!(!output.status.success());
        let stderr = text(&output.stderr);
        assert!(stderr.contains("--device nrf52840 runs through a debug probe: that needs tinytrain built with the `probe` feature"), "{stderr}");
        assert!(!stderr.contains("firmware: building"), "{stderr}");
    }
}

/// Options the device cannot honour are errors, never ignored.
#[test]
fn what_the_device_cannot_do_is_an_error() {
    let cases: [(&[&str], &str); 9] = [
        (
            &["--device", "nrf52840", "--stream"],
            "--stream: the firmware's nrf52840 UART driver only transmits",
        ),
        (
            &["--stream", "--batch-norm"],
            "--stream: a network with batch norm learns whole mini-batches",
        ),
        (
            &["--stream", "--early-stopping"],
            "--stream: early stopping watches validation epochs, and a stream has none",
        ),
        (
            &["--device", "stm32f411", "--stream"],
            "--stream on stm32f411: the samples go to its UART, not through the probe: build the firmware with --build-only",
        ),
        (
            &["--task", "autoencoder"],
            "--device: --task autoencoder trains on a device from a stream only",
        ),
        (
            &["--on-divergence", "reduce-lr"],
            "--device: --on-divergence reduce-lr restores the last good weights, a copy the firmware does not keep; use skip or stop",
        ),
        (
            &["--chip", "STM32F411CEUx"],
            "--chip applies to boards run through a debug probe, not to mps2-an386 (QEMU)",
        ),
        (&["--resume", "runs/x"], "cannot be used with"),
        (&["--device", "esp32"], "--device esp32: no such board (known: qemu, mps2-an386"),
    ];
    // --stream needs somewhere to stream to.
    let output = tinytrain(&["train", "--data", "data/iris.csv", "--stream"]);
    assert!(!output.status.success());
    assert!(
        text(&output.stderr)
            .contains("--stream sends the training rows to a device: name it with --device BOARD"),
        "{}",
        text(&output.stderr)
    );
    for (extra, message) in cases {
        let mut args = vec!["train", "--data", "data/iris.csv"];
        if !extra.contains(&"--device") {
            args.extend(["--device", "qemu"]);
        }
        args.extend(extra);
        let output = tinytrain(&args);
        assert!(!output.status.success(), "{args:?}");
        let stderr = text(&output.stderr);
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
}

/// `tinytrain boards`: every board with its memory from the firmware's linker files.
#[test]
fn boards_lists_every_board() {
    let output = tinytrain(&["boards"]);
    assert!(output.status.success());
    let stdout = text(&output.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 5, "{stdout}");
    assert!(
        lines[1].starts_with("mps2-an386 (qemu)           4096 KiB 4096 KiB  Cortex-M4F"),
        "{stdout}"
    );
    assert!(
        lines[2].starts_with("netduinoplus2               1024 KiB  128 KiB"),
        "{stdout}"
    );
    assert!(
        lines[3].starts_with("stm32f411 (blackpill)        512 KiB  128 KiB"),
        "{stdout}"
    );
    assert!(
        lines[3].ends_with("probe-rs, --chip STM32F411CEUx"),
        "{stdout}"
    );
    assert!(
        lines[4].starts_with("nrf52840                    1024 KiB  256 KiB"),
        "{stdout}"
    );
}
