//! Hostile CSV input through the `tinytrain` binary, as a user meets it: other line endings, blank
//! lines, paths that are not files, other delimiters, huge cells, odd labels, and real exports with
//! id and text columns and gaps. Each failure must exit non-zero with one exact message on stderr.

use std::path::Path;
use std::process::{Command, Output};

/// Runs `tinytrain ARGS…` in `dir`.
fn tinytrain(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tinytrain"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run tinytrain")
}

/// Runs `tinytrain train --data FILE --out out --epochs 1 --no-plot EXTRA…` in `dir`, where `FILE`
/// is relative to `dir` (so messages name it as given).
fn train(dir: &Path, file: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "train",
        "--data",
        file,
        "--out",
        "out",
        // Each test trains into `out` more than once: replacing the last run is the point.
        "--force",
        "--epochs",
        "1",
        "--no-plot",
    ];
    args.extend_from_slice(extra);
    tinytrain(dir, &args)
}

/// Writes `bytes` to `dir/name`.
fn write(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) {
    std::fs::write(dir.join(name), bytes).unwrap();
}

/// Checks that `output` failed with exactly `message` (one `error: …` line) on stderr.
fn assert_error(output: &Output, message: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "should fail: {stderr}");
    assert_eq!(stderr, format!("error: {message}\n"));
}

/// Checks that `output` succeeded, and returns its stderr.
fn assert_success(output: &Output) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "should succeed: {stderr}");
    stderr
}

#[test]
fn crlf_line_endings_give_the_physical_line() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "crlf.csv", "a,b,label\r\n1,2,0\r\n3,x,1\r\n");
    let output = train(dir.path(), "crlf.csv", &[]);
    assert_error(
        &output,
        "crlf.csv: line 3, column 'b' (2): 'x' is not a number",
    );
}

#[test]
fn blank_lines_between_rows_count_as_lines() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "blank.csv", "a,b,label\n\n1,2,0\n\n\n3,x,1\n");
    let output = train(dir.path(), "blank.csv", &[]);
    assert_error(
        &output,
        "blank.csv: line 6, column 'b' (2): 'x' is not a number",
    );
}

#[test]
fn cr_only_line_endings_give_the_physical_line() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "cr.csv", "a,b,label\r1,2,0\r3,x,1\r");
    let output = train(dir.path(), "cr.csv", &[]);
    assert_error(
        &output,
        "cr.csv: line 3, column 'b' (2): 'x' is not a number",
    );
}

#[test]
fn lf_line_numbers_are_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "lf.csv", "a,b,label\n1,2,0\n3,x,1\n");
    let output = train(dir.path(), "lf.csv", &[]);
    assert_error(
        &output,
        "lf.csv: line 3, column 'b' (2): 'x' is not a number",
    );
}

#[test]
fn a_directory_is_named_as_one() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("data.csv")).unwrap();
    let output = train(dir.path(), "data.csv", &[]);
    assert_error(&output, "data.csv: is a directory, not a CSV file");
}

#[cfg(unix)]
#[test]
fn a_fifo_is_not_a_regular_file() {
    let dir = tempfile::tempdir().unwrap();
    let made = Command::new("mkfifo")
        .arg(dir.path().join("pipe.csv"))
        .status()
        .expect("run mkfifo");
    assert!(made.success());
    // Named without opening it: opening a FIFO with no writer would hang.
    let output = train(dir.path(), "pipe.csv", &[]);
    assert_error(&output, "pipe.csv: is not a regular file");
}

#[test]
fn a_huge_cell_is_quoted_by_its_start_and_size() {
    let dir = tempfile::tempdir().unwrap();
    let cell = "9".repeat(5_000_000) + "x";
    write(dir.path(), "huge.csv", format!("a,b,label\n1,{cell},0\n"));
    let output = train(dir.path(), "huge.csv", &[]);
    let start = &cell[..40];
    assert_error(
        &output,
        &format!("huge.csv: line 2, column 'b' (2): '{start}… (5000001 bytes)' is not a number"),
    );
}

#[test]
fn integer_labels_beyond_2_pow_53_are_classes() {
    let dir = tempfile::tempdir().unwrap();
    // Two labels that f64 cannot tell apart from their neighbours.
    let rows: String = (0..20)
        .map(|i| format!("{i},{},900719925474099{}\n", i % 3, [3, 5][i % 2]))
        .collect();
    write(dir.path(), "ids.csv", format!("a,b,label\n{rows}"));
    let stderr = assert_success(&train(dir.path(), "ids.csv", &[]));
    assert!(
        stderr.starts_with("ids.csv: 20 rows × 2 features, 2 classes |"),
        "{stderr}"
    );

    let rows: String = (0..130)
        .map(|i| format!("{i},{}\n", 90_071_992_547_409_930_u64 + i / 2))
        .collect();
    write(dir.path(), "many.csv", format!("x,label\n{rows}"));
    let output = train(dir.path(), "many.csv", &["--task", "classification"]);
    assert_error(
        &output,
        "many.csv: column 'label' (2): 65 classes, more than the maximum of 64 (MAX_CLASSES)",
    );
}

/// Twenty rows of `a,b,label` (two classes) with cells separated by `separator`.
fn separated(separator: &str) -> String {
    let rows: String = (0..20)
        .map(|i| format!("{i}.5,{},{}\n", i % 4, i % 2))
        .collect();
    format!("a,b,label\n{rows}").replace(',', separator)
}

#[test]
fn a_semicolon_file_names_its_delimiter_and_reads_with_it() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "semi.csv", separated(";"));
    let output = train(dir.path(), "semi.csv", &[]);
    assert_error(
        &output,
        "semi.csv: line 1: the header has one column; the file looks ';'-separated: pass --delimiter ';'",
    );
    let stderr = assert_success(&train(dir.path(), "semi.csv", &["--delimiter", ";"]));
    assert!(
        stderr.starts_with("semi.csv: 20 rows × 2 features, 2 classes |"),
        "{stderr}"
    );
}

#[test]
fn a_tab_separated_file_names_its_delimiter_and_reads_with_it() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "data.tsv", separated("\t"));
    let output = train(dir.path(), "data.tsv", &[]);
    assert_error(
        &output,
        "data.tsv: line 1: the header has one column; the file looks tab-separated: pass --delimiter tab",
    );
    for tab in ["tab", "\\t", "\t"] {
        assert_success(&train(dir.path(), "data.tsv", &["--delimiter", tab]));
    }
}

#[test]
fn a_negative_count_names_its_option() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "ok.csv", separated(","));
    for (option, name, range) in [
        ("--batch", "--batch <N>", "1 to 4294967295"),
        ("--epochs", "--epochs <N>", "1 to 4294967295"),
        ("--seed", "--seed <N>", "0 to 18446744073709551615"),
    ] {
        let args = ["train", "--data", "ok.csv", "--no-plot", option, "-1"];
        let output = tinytrain(dir.path(), &args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        // A usage error: clap's exit code and its message, which names the option.
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        let first = stderr.lines().next().unwrap();
        assert_eq!(
            first,
            format!(
                "error: invalid value '-1' for '{name}': '-1' is not a whole number from {range}"
            )
        );
    }
    let output = train(dir.path(), "ok.csv", &["--hidden", "-1"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        stderr.lines().next().unwrap(),
        "error: invalid value '-1' for '--hidden <WIDTHS>': '-1' is not a layer width (a whole number ≥ 1)"
    );
}

/// A small export in the shape of the Palmer penguins data: a row id, the species (the label), a
/// text column (island), measurements with `NA` and empty cells for gaps, and the year.
const PENGUINS: &str = "\
id,species,island,bill_length_mm,bill_depth_mm,flipper_length_mm,body_mass_g,year
1,Adelie,Torgersen,39.1,18.7,181,3750,2007
2,Adelie,Torgersen,39.5,17.4,186,3800,2007
3,Adelie,Torgersen,40.3,18,195,3250,2007
4,Adelie,Torgersen,NA,NA,NA,NA,2007
5,Adelie,Torgersen,36.7,19.3,193,3450,2007
6,Adelie,Torgersen,39.3,20.6,190,3650,2007
7,Adelie,Torgersen,38.9,17.8,181,3625,2007
8,Adelie,Torgersen,39.2,19.6,195,4675,2007
153,Gentoo,Biscoe,46.1,13.2,211,4500,2007
154,Gentoo,Biscoe,50,16.3,230,5700,2007
155,Gentoo,Biscoe,48.7,14.1,210,4450,2007
156,Gentoo,Biscoe,50,15.2,218,5700,2007
157,Gentoo,Biscoe,47.6,14.5,215,5400,2007
158,Gentoo,Biscoe,46.5,13.5,210,4550,2007
159,Gentoo,Biscoe,45.4,14.6,211,4800,2007
272,Gentoo,Biscoe,NA,NA,NA,NA,2009
277,Chinstrap,Dream,46.5,17.9,192,3500,2007
278,Chinstrap,Dream,50,19.5,196,3900,2007
279,Chinstrap,Dream,51.3,19.2,,3650,2007
280,Chinstrap,Dream,45.4,18.7,188,3525,2007
281,Chinstrap,Dream,52.7,19.8,197,3725,2007
282,Chinstrap,Dream,45.2,17.8,198,3950,2007
283,Chinstrap,Dream,46.1,18.2,178,3250,2007
284,Chinstrap,Dream,51.3,18.2,197,3750,2007
";

#[test]
fn ignore_leaves_out_id_and_text_columns_and_names_unknown_ones() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "penguins.csv", PENGUINS);
    let species = ["--label", "species"];
    assert_error(
        &train(dir.path(), "penguins.csv", &species),
        "penguins.csv: line 2, column 'island' (3): 'Torgersen' is not a number",
    );
    // With the text column left out, the gaps are the next problem: still an error by default.
    let output = train(
        dir.path(),
        "penguins.csv",
        &["--ignore", "id,island", "--label", "species"],
    );
    assert_error(
        &output,
        "penguins.csv: line 5, column 'bill_length_mm' (4): missing value 'NA'",
    );
    let output = train(
        dir.path(),
        "penguins.csv",
        &["--ignore", "id,isle", "--label", "species"],
    );
    assert_error(
        &output,
        "penguins.csv: --ignore names no column 'isle'; the columns are: 'id', 'species', 'island', \
         'bill_length_mm', 'bill_depth_mm', 'flipper_length_mm', 'body_mass_g', 'year'",
    );
    let output = train(
        dir.path(),
        "penguins.csv",
        &["--ignore", "species", "--label", "species"],
    );
    assert_error(
        &output,
        "penguins.csv: column 'species' (2): the label column cannot also be ignored (--ignore)",
    );
}

#[test]
fn penguins_train_with_ignore_and_drop_missing() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "penguins.csv", PENGUINS);
    let args = [
        "--ignore",
        "id,island",
        "--drop-missing",
        "--label",
        "species",
    ];
    let stderr = assert_success(&train(dir.path(), "penguins.csv", &args));
    let mut lines = stderr.lines();
    assert_eq!(
        lines.next().unwrap(),
        "penguins.csv: --drop-missing dropped 3 of 24 data rows; missing cells: \
         2 in column 'bill_length_mm' (4), 2 in column 'bill_depth_mm' (5), \
         3 in column 'flipper_length_mm' (6), 2 in column 'body_mass_g' (7)"
    );
    let described = lines.next().unwrap();
    assert!(
        described.starts_with("penguins.csv: 21 rows × 5 features, 3 classes |"),
        "{described}"
    );
    // The run records the options, so that --resume reads the file the same way.
    let manifest = std::fs::read_to_string(dir.path().join("out/manifest.json")).unwrap();
    let manifest: serde_json::Value = serde_json::from_str(&manifest).unwrap();
    assert_eq!(
        manifest["config"]["ignore"],
        serde_json::json!(["id", "island"])
    );
    assert_eq!(manifest["config"]["drop_missing"], true);
}
