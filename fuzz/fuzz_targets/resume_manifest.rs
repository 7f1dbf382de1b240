//! `train --resume` on a run directory whose manifest.json, metrics.jsonl and checkpoint.bin are
//! arbitrary: it resumes or refuses with an error, never panics (the bytes are split into the three
//! files at two `\0` bytes).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(3, |&b| b == 0);
    let (manifest, metrics, checkpoint) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    std::fs::create_dir(&run).unwrap();
    for (name, bytes) in [
        ("manifest.json", manifest),
        ("metrics.jsonl", metrics),
        ("metrics.csv", metrics),
        ("events.jsonl", &b""[..]),
        ("checkpoint.bin", checkpoint),
    ] {
        std::fs::write(run.join(name), bytes).unwrap();
    }
    let run = run.to_str().unwrap().to_string();
    // Small bounds on what a fuzzed manifest may ask for: a few epochs of the bundled iris data.
    let _ = tinytrain_host::cli::run([
        "tinytrain",
        "train",
        "--resume",
        &run,
        "--epochs",
        "3",
        "--quiet",
        "--no-plot",
    ]);
});
