//! The int8 export on the device: `firmware/src/bin/infer_int8.rs`, built with a run's
//! `tinytrain export --int8 --format rust` module and its validation rows, runs in QEMU
//! (`mps2-an386`, Cortex-M4F) and logs each row's class and int8 logits over defmt; they must
//! equal the host's int8 model's (`tinytrain_host::export::int8`) exactly, row by row.
//!
//! Without `qemu-system-arm` the test is skipped, unless `CI` is set (then it fails).

#[macro_use]
mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use tinytrain_host::export::int8::rows::RunRows;
use tinytrain_host::export::int8::Int8Model;
use tinytrain_host::model::Model;

/// Builds `infer_int8` with `module` and `rows` into its own target directory (the feature and the
/// environment differ from the other programs' builds) and returns the ELF.
fn build(module: &Path, rows: &Path) -> PathBuf {
    let dir = common::firmware_dir();
    let target = dir.join("target/infer-int8");
    let mut cargo = Command::new("cargo");
    cargo
        .current_dir(&dir)
        .args(["build", "--release", "--bin", "infer_int8"])
        .args(["--features", "infer-int8"])
        .arg("--target-dir")
        .arg(&target)
        .env("TINYTRAIN_INT8_MODEL", module)
        .env("TINYTRAIN_INT8_ROWS", rows);
    common::build_firmware(cargo, "infer_int8");
    target.join("thumbv7em-none-eabihf/release/infer_int8")
}

/// `(class, logits)` of a line `INFO  int8 row R class C logits [a, b, c]`, checking `R`.
fn parse(line: &str, row: usize) -> (usize, Vec<i8>) {
    let rest = line
        .split_once(&format!("int8 row {row} class "))
        .unwrap_or_else(|| panic!("not row {row}'s line: {line}"))
        .1;
    let (class, logits) = rest.split_once(" logits ").unwrap();
    let logits = logits
        .trim()
        .trim_matches(['[', ']'])
        .split(", ")
        .map(|v| v.parse().unwrap())
        .collect();
    (class.parse().unwrap(), logits)
}

#[test]
fn the_int8_firmware_predicts_exactly_what_the_host_predicts() {
    require_qemu!();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../data");
    for (name, dataset, options) in [
        // ReLU fused into the dense layer, softmax over 3 classes.
        ("iris", "iris.csv", "--epochs 40"),
        // Two tanh tables and the binary sigmoid head, 30 features.
        (
            "cancer",
            "breast_cancer.csv",
            "--epochs 5 --hidden 16,8 --activation tanh",
        ),
    ] {
        let run_dir = d.join(name);
        common::tinytrain(&format!(
            "train --data {} --out {} --quiet --no-plot {options}",
            data.join(dataset).display(),
            run_dir.display()
        ));
        let module = d.join(format!("{name}_int8.rs"));
        common::tinytrain(&format!(
            "export {} --int8 --format rust --out {}",
            run_dir.display(),
            module.display()
        ));

        let model = Model::load(&run_dir).unwrap();
        let rows = RunRows::load(&model, None).unwrap();
        let int8 = Int8Model::calibrate(&model, &rows.train).unwrap();
        let bytes: Vec<u8> = rows
            .val
            .iter()
            .flatten()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let rows_file = d.join(format!("{name}_rows.bin"));
        std::fs::write(&rows_file, bytes).unwrap();

        let elf = build(&module, &rows_file);
        let log = common::run_elf("infer_int8", common::Machine::Mps2An386, elf).log;
        let lines: Vec<&String> = log.iter().filter(|l| l.contains("int8 row ")).collect();
        assert_eq!(
            lines.len(),
            rows.val.len(),
            "{name}: a line per row:\n{log:#?}"
        );
        let mut correct = 0;
        for (row, (line, x)) in lines.iter().zip(&rows.val).enumerate() {
            let (class, logits) = parse(line, row);
            let want_logits = int8.forward(&int8.quantize(x));
            assert_eq!(
                logits, want_logits,
                "{name} row {row}: device vs host logits"
            );
            assert_eq!(
                class,
                int8.predict(x),
                "{name} row {row}: device vs host class"
            );
            correct += usize::from(class == usize::from(rows.val_classes[row]));
        }
        let done = log
            .iter()
            .find(|l| l.contains("int8 done rows"))
            .expect("the summary line");
        assert!(done.contains(&format!("rows {}", rows.val.len())), "{done}");
        eprintln!(
            "{name}: {} rows, device int8 accuracy {correct}/{}, equal to the host's; {done}",
            rows.val.len(),
            rows.val.len()
        );
    }
}
