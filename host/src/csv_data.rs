//! Reading a CSV file into features and targets, with errors that point at the offending cell.
//!
//! The format: a header row naming the columns, then one sample per row, cells separated by `,` (or
//! [`LoadOptions::delimiter`]). One column is the label (by default the last); columns named in
//! [`LoadOptions::ignore`] are left out; every other column is a numeric feature. Cells are trimmed;
//! blank lines are skipped. A cell that is empty or reads `NA` or `NaN` (any case) is missing, which
//! is an error: the trainer has no imputation, so a gap must be filled or the row removed, which
//! [`LoadOptions::drop_missing`] does (and counts, in [`Dropped`]).
//!
//! Every error names the file, and where it applies the 1-based physical line of the file (as an
//! editor numbers it: `\n`, `\r\n` and a lone `\r` each end a line, and blank lines count) and the
//! column by name and 1-based number, e.g.
//! `data/iris.csv: line 7, column 'petal_width_cm' (4): 'abc' is not a number`.

use std::cmp::Ordering;
use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use tinytrain::data::SliceDataset;

use crate::{MAX_CLASSES, MAX_FEATURES, MAX_TARGETS};

mod schema;
pub use schema::{read_for, Inputs, Schema};

/// Fewest data rows a file may have: below this a validation split says nothing.
pub const MIN_ROWS: usize = 10;

/// Most distinct integer labels that auto-detection still reads as classes (see [`Task::detect`]).
pub const MAX_DETECTED_CLASSES: usize = 32;

/// What the label column asks the network to do.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Task {
    /// Predict one of a set of classes.
    Classification,
    /// Predict a number.
    Regression,
}

impl Task {
    /// Guesses the task from the label column's cells:
    ///
    /// 1. any label that is not a number (e.g. `setosa`) → classification;
    /// 2. else any number with a fractional part (e.g. `151.5`) → regression;
    /// 3. else (all integers, of any size) at most 32 distinct values → classification, more →
    ///    regression.
    ///
    /// So `0`/`1`/`2` labels are classes and a column of ages or prices is a regression target;
    /// `--task` overrides the guess.
    pub fn detect<S: AsRef<str>>(labels: &[S]) -> Task {
        let mut integers = BTreeSet::new();
        for label in labels {
            let label = label.as_ref();
            if let Some(integer) = Integer::parse(label) {
                integers.insert(integer);
            } else if parse_number(label).is_some() {
                return Task::Regression;
            } else {
                return Task::Classification;
            }
        }
        if integers.len() <= MAX_DETECTED_CLASSES {
            Task::Classification
        } else {
            Task::Regression
        }
    }
}

impl fmt::Display for Task {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Task::Classification => "classification",
            Task::Regression => "regression",
        })
    }
}

/// The character between the cells of a row: one ASCII byte, `,` unless `--delimiter` says else.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Delimiter(u8);

impl Delimiter {
    /// `,`, the default.
    pub const COMMA: Delimiter = Delimiter(b',');
    /// A tab, as in `.tsv` files.
    pub const TAB: Delimiter = Delimiter(b'\t');

    /// The byte.
    pub fn byte(self) -> u8 {
        self.0
    }

    /// `true` for the default, `,` (for serde's `skip_serializing_if`).
    pub fn is_comma(&self) -> bool {
        *self == Delimiter::COMMA
    }

    /// As a message or a shell command line spells it: `';'`, or `tab`.
    pub fn quoted(self) -> String {
        match self {
            Delimiter::TAB => "tab".to_string(),
            Delimiter(byte) => format!("'{}'", char::from(byte)),
        }
    }
}

impl Default for Delimiter {
    fn default() -> Self {
        Delimiter::COMMA
    }
}

impl FromStr for Delimiter {
    type Err = String;

    /// One ASCII character; a tab also as `tab` or `\t` (two characters, as a shell passes it).
    /// Not `"`, which quotes cells, nor a line break.
    fn from_str(text: &str) -> Result<Self, String> {
        if text.eq_ignore_ascii_case("tab") || text == "\\t" {
            return Ok(Delimiter::TAB);
        }
        match text.as_bytes() {
            [b'"' | b'\r' | b'\n'] => Err(format!("{text:?} cannot separate cells")),
            &[byte] if byte.is_ascii() => Ok(Delimiter(byte)),
            _ => Err(format!(
                "'{text}' is not one ASCII character (for a tab: tab or \\t)"
            )),
        }
    }
}

impl fmt::Display for Delimiter {
    /// The character itself, or `tab` (so that it reads back with [`Delimiter::from_str`]).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Delimiter::TAB => f.write_str("tab"),
            Delimiter(byte) => write!(f, "{}", char::from(byte)),
        }
    }
}

impl serde::Serialize for Delimiter {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Delimiter {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// How to read a data file, beyond its path.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LoadOptions {
    /// The label column's name (`None`: the last column, unless `targets` names columns).
    pub label: Option<String>,
    /// Several regression target columns (`--targets`), in the network's output order: each is
    /// read as a number, and the task is regression. Empty: the label column is the one target.
    pub targets: Vec<String>,
    /// The task (`None`: [`Task::detect`]).
    pub task: Option<Task>,
    /// The cell separator.
    pub delimiter: Delimiter,
    /// Columns to leave out, by name (e.g. an id or a text column).
    pub ignore: Vec<String>,
    /// Leave out rows with a missing cell (empty, `NA`, `NaN`) in a used column, instead of
    /// stopping at the first.
    pub drop_missing: bool,
}

impl LoadOptions {
    /// The defaults, with this label column and task.
    fn new(label: Option<&str>, task: Option<Task>) -> Self {
        LoadOptions {
            label: label.map(str::to_string),
            task,
            ..LoadOptions::default()
        }
    }
}

/// A table, and the rows [`LoadOptions::drop_missing`] left out of it.
#[derive(Clone, Debug)]
pub struct Loaded {
    /// The rows kept.
    pub table: Table,
    /// The rows left out.
    pub dropped: Dropped,
}

/// The rows that [`LoadOptions::drop_missing`] left out, for a report.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Dropped {
    /// Data rows in the file, kept or not.
    pub of: usize,
    /// Rows left out.
    pub rows: usize,
    /// Each column with missing cells in those rows, and how many, in file order.
    pub by_column: Vec<(Column, usize)>,
}

impl fmt::Display for Dropped {
    /// E.g. `--drop-missing dropped 2 of 24 data rows; missing cells: 2 in column 'mass' (7)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (rows, of) = (self.rows, self.of);
        write!(f, "--drop-missing dropped {rows} of {of} data rows")?;
        let counts: Vec<String> = self
            .by_column
            .iter()
            .map(|(column, count)| format!("{count} in {column}"))
            .collect();
        if !counts.is_empty() {
            write!(f, "; missing cells: {}", counts.join(", "))?;
        }
        Ok(())
    }
}

/// A column of the file, for messages: its header name and 1-based position.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Column {
    /// The header cell.
    pub name: String,
    /// 1-based position in the row.
    pub number: usize,
}

impl fmt::Display for Column {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "column '{}' ({})", Excerpt(&self.name), self.number)
    }
}

/// Most characters of a cell that a message quotes.
pub const EXCERPT_CHARS: usize = 40;

/// Cell text as a message quotes it: whole when short, else its first [`EXCERPT_CHARS`] characters,
/// `…` and its size, so that one huge cell (a 50 MB blob) cannot flood the terminal.
pub struct Excerpt<'a>(pub &'a str);

impl fmt::Display for Excerpt<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.char_indices().nth(EXCERPT_CHARS) {
            None => f.write_str(self.0),
            Some((cut, _)) => write!(f, "{}… ({} bytes)", &self.0[..cut], self.0.len()),
        }
    }
}

/// The targets of every row.
#[derive(Clone, Debug, PartialEq)]
pub enum Targets {
    /// Class indices into `names`, which are sorted (numerically when every label is an integer).
    Classes {
        /// One class index per row.
        labels: Vec<u16>,
        /// The label text of each class index.
        names: Vec<String>,
    },
    /// Regression values.
    Values(Vec<f32>),
}

/// A validated dataset: row-major `f32` features and one target per row.
#[derive(Clone, Debug)]
pub struct Table {
    /// The file it was read from.
    pub path: PathBuf,
    /// Names of the feature columns, in file order (the label column left out).
    pub feature_names: Vec<String>,
    /// The target columns: the label column, or with several regression targets (`--targets`)
    /// each in the network's output order. Never empty.
    pub labels: Vec<Column>,
    /// `rows × feature_names.len()` values, row-major.
    pub features: Vec<f32>,
    /// One target per row.
    pub targets: Targets,
    /// Physical file line of each data row (for messages about a row).
    pub lines: Vec<u64>,
}

impl Table {
    /// Number of data rows.
    pub fn rows(&self) -> usize {
        self.lines.len()
    }

    /// Number of features per row.
    pub fn width(&self) -> usize {
        self.feature_names.len()
    }

    /// The label column (the first target column with `--targets`).
    pub fn label(&self) -> &Column {
        &self.labels[0]
    }

    /// Regression values per row: the number of target columns (1 for classification).
    pub fn target_width(&self) -> usize {
        self.labels.len()
    }

    /// Classification or regression.
    pub fn task(&self) -> Task {
        match self.targets {
            Targets::Classes { .. } => Task::Classification,
            Targets::Values(_) => Task::Regression,
        }
    }

    /// Class names in class-index order (empty for regression).
    pub fn class_names(&self) -> &[String] {
        match &self.targets {
            Targets::Classes { names, .. } => names,
            Targets::Values(_) => &[],
        }
    }

    /// Number of classes, 0 for regression (the convention of `tinytrain::data::split`).
    pub fn classes(&self) -> usize {
        self.class_names().len()
    }

    /// The table as the core's dataset type (borrowing, no copy).
    pub fn dataset(&self) -> SliceDataset<'_> {
        match &self.targets {
            Targets::Classes { labels, .. } => {
                SliceDataset::classification(&self.features, self.width(), labels)
            }
            Targets::Values(values) => SliceDataset::regression_outputs(
                &self.features,
                self.width(),
                values,
                self.target_width(),
            ),
        }
    }

    /// An error about the whole file.
    pub fn error(&self, problem: Problem) -> DataError {
        DataError {
            file: self.path.clone(),
            line: None,
            column: None,
            problem,
        }
    }

    /// An error about the label of data row `row` (0-based).
    pub fn label_error(&self, row: usize, problem: Problem) -> DataError {
        DataError {
            file: self.path.clone(),
            line: self.lines.get(row).copied(),
            column: Some(self.label().clone()),
            problem,
        }
    }
}

/// Something wrong with a data file, and where.
#[derive(Debug)]
pub struct DataError {
    /// The file.
    pub file: PathBuf,
    /// 1-based file line, when the problem is on one line.
    pub line: Option<u64>,
    /// The column, when the problem is in one column.
    pub column: Option<Column>,
    /// What is wrong.
    pub problem: Problem,
}

// No `source()`: the message above already includes the problem's whole text.
impl std::error::Error for DataError {}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.file.display())?;
        match (self.line, &self.column) {
            (Some(line), Some(column)) => write!(f, "line {line}, {column}: ")?,
            (Some(line), None) => write!(f, "line {line}: ")?,
            (None, Some(column)) => write!(f, "{column}: ")?,
            (None, None) => {}
        }
        write!(f, "{}", self.problem)
    }
}

/// What can be wrong with a data file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Problem {
    /// No such file (relative to the current directory), and not a bundled dataset.
    #[error("file not found")]
    NotFound,
    /// A directory where a data file was expected.
    #[error("is a directory, not a CSV file")]
    Directory,
    /// Something other than a file or directory: a FIFO, a socket, a device.
    #[error("is not a regular file")]
    NotRegularFile,
    /// Could not be opened or read.
    #[error("cannot read the file: {0}")]
    Io(std::io::Error),
    /// Not valid CSV (e.g. not UTF-8 text).
    #[error("{0}")]
    Csv(String),
    /// No content at all.
    #[error(
        "the file is empty; expected a header row naming the columns, then one sample per row"
    )]
    Empty,
    /// The first row holds numbers: the header is missing.
    #[error("the first line holds only numbers, so it looks like data; the first line must be a header naming the columns")]
    NoHeader,
    /// A header cell is empty.
    #[error("the header gives this column no name")]
    UnnamedColumn,
    /// Two header cells are equal.
    #[error("the column name is used twice (also by column {first})")]
    DuplicateColumn {
        /// 1-based number of the first column with the name.
        first: usize,
    },
    /// `--label` names no column.
    #[error("there is no label column '{}'; the columns are: {available}", Excerpt(.label))]
    NoSuchLabel {
        /// The name asked for.
        label: String,
        /// The header's names, quoted (each as an [`Excerpt`]) and comma-separated.
        available: String,
    },
    /// Only one column, and its name holds what looks like another delimiter.
    #[error(
        "the header has one column; the file looks {}-separated: pass --delimiter {}",
        .0.quoted(),
        .0.quoted()
    )]
    OtherDelimiter(Delimiter),
    /// Only the label column (and ignored ones).
    #[error("there are no feature columns: besides the label, at least one column is needed")]
    NoFeatures,
    /// `--ignore` names no column. Boxed, as a second variant with two strings would make every
    /// `DataError` larger.
    #[error("--ignore names no column '{}'; the columns are: {}", Excerpt(&.0.name), .0.available)]
    NoSuchColumnToIgnore(Box<UnknownColumn>),
    /// `--ignore` names the label column.
    #[error("the label column cannot also be ignored (--ignore)")]
    LabelIgnored,
    /// `--targets` names more columns than the host supports.
    #[error("--targets names {found} columns, more than the maximum of {max} (MAX_TARGETS)")]
    TooManyTargets {
        /// Columns named.
        found: usize,
        /// The most allowed.
        max: usize,
    },
    /// `--targets` names a column twice.
    #[error("--targets names column '{}' twice", Excerpt(.0))]
    RepeatedTarget(String),
    /// More feature columns than the host supports.
    #[error("{found} feature columns, more than the maximum of {max} (MAX_FEATURES)")]
    TooManyFeatures {
        /// Feature columns in the file.
        found: usize,
        /// [`MAX_FEATURES`].
        max: usize,
    },
    /// A row with a different number of fields than the header.
    #[error("the row has {found} fields but the header has {expected}")]
    Ragged {
        /// Fields in the header.
        expected: usize,
        /// Fields in this row.
        found: usize,
    },
    /// An empty, `NA` or `NaN` cell.
    #[error("missing value{}", if .0.is_empty() { " (empty cell)".to_string() } else { format!(" '{}'", .0) })]
    Missing(String),
    /// A cell that does not parse as a number.
    #[error("'{}' is not a number", Excerpt(.0))]
    NotNumeric(String),
    /// A number that is infinite, or too large for `f32`.
    #[error("'{}' is not a finite 32-bit float", Excerpt(.0))]
    NotFinite(String),
    /// Fewer than [`MIN_ROWS`] data rows.
    #[error("only {rows} data rows{}; at least {min} are needed", after_dropping(*.dropped))]
    TooFewRows {
        /// Data rows in the file (kept by `--drop-missing`).
        rows: usize,
        /// [`MIN_ROWS`].
        min: usize,
        /// Rows `--drop-missing` left out.
        dropped: usize,
    },
    /// Classification with one class.
    #[error("every row has the same class '{}'; classification needs at least 2 classes", Excerpt(.0))]
    SingleClass(String),
    /// More classes than the host supports.
    #[error("{found} classes, more than the maximum of {max} (MAX_CLASSES)")]
    TooManyClasses {
        /// Distinct labels.
        found: usize,
        /// [`MAX_CLASSES`].
        max: usize,
    },
    /// A class too rare to appear on both sides of a stratified split.
    #[error(
        "class '{}' has only {count} row; a stratified split needs at least 2 rows per class",
        Excerpt(.class)
    )]
    ClassTooSmall {
        /// The class's label.
        class: String,
        /// Rows with that label.
        count: usize,
    },
    /// A header with no data rows below it (reading rows to predict, where one row is enough).
    #[error("there are no data rows below the header")]
    NoRows,
    /// A column that is none of a trained run's features, nor its label (reading rows to predict).
    #[error("the run was not trained on this column (its features are: {features}); leave it out with --ignore")]
    NotAFeature {
        /// The run's feature names, quoted and comma-separated.
        features: String,
    },
    /// Feature columns of a trained run that the file lacks (reading rows to predict): their
    /// names, quoted and comma-separated, and the header's. Boxed, as [`Problem::NoSuchColumnToIgnore`].
    #[error("the file lacks the run's feature column(s) {}; its columns are: {}", .0.name, .0.available)]
    MissingFeatures(Box<UnknownColumn>),
    /// Some of a `--targets` run's target columns, but not all (reading rows to predict): the
    /// missing ones, and the header's.
    #[error("the file has some of the run's target columns but lacks {}; its columns are: {} (give all of them, for metrics, or none)", .0.name, .0.available)]
    MissingTargets(Box<UnknownColumn>),
    /// A label that is none of a trained run's classes (reading rows to predict): the label, and
    /// the run's class names, quoted and comma-separated.
    #[error("class '{}' is not one of the run's classes ({})", Excerpt(&.0.name), .0.available)]
    UnknownClass(Box<UnknownColumn>),
    /// The validation fraction leaves the training or the validation set without rows.
    #[error(
        "a validation fraction of {fraction} leaves the {side} set empty ({rows} rows in all)"
    )]
    EmptySplit {
        /// `"training"` or `"validation"`.
        side: &'static str,
        /// The fraction asked for.
        fraction: f32,
        /// Data rows in the file.
        rows: usize,
    },
}

/// A name that is not among those available: a column the header does not have, or (reading
/// rows to predict) a label that is none of a run's classes.
#[derive(Debug)]
pub struct UnknownColumn {
    /// The name given.
    pub name: String,
    /// The names there are, quoted (each as an [`Excerpt`]) and comma-separated.
    pub available: String,
}

/// The bundled datasets of the repository's `data/` folder, built into the binary, by the path that
/// names them (relative to the current directory, as `--data` takes it). So the default
/// `--data data/digits.csv` works from any directory, with or without a checkout.
pub const BUNDLED: [(&str, &str); 5] = [
    ("data/digits.csv", include_str!("../../data/digits.csv")),
    ("data/iris.csv", include_str!("../../data/iris.csv")),
    ("data/wine.csv", include_str!("../../data/wine.csv")),
    (
        "data/breast_cancer.csv",
        include_str!("../../data/breast_cancer.csv"),
    ),
    ("data/diabetes.csv", include_str!("../../data/diabetes.csv")),
];

/// The text of the bundled dataset named `path`, if there is one.
fn bundled(path: &Path) -> Option<&'static str> {
    BUNDLED
        .iter()
        .find(|(name, _)| Path::new(name) == path)
        .map(|(_, text)| *text)
}

/// Where the text of a data file comes from.
enum Source {
    /// The regular file at the path.
    File,
    /// A [`BUNDLED`] dataset, as there is nothing at the path.
    Bundled(&'static str),
}

/// What `path` names: a regular file, or else (nothing being there) a bundled dataset. Anything
/// else at `path` is named in the error, since a directory or a FIFO is no more a CSV file than a
/// missing path is (and opening a FIFO would wait for a writer).
fn source(path: &Path) -> Result<Source, DataError> {
    let problem = match std::fs::metadata(path) {
        Ok(meta) if meta.is_file() => return Ok(Source::File),
        Ok(meta) if meta.is_dir() => Problem::Directory,
        Ok(_) => Problem::NotRegularFile,
        Err(error) => match bundled(path) {
            Some(text) => return Ok(Source::Bundled(text)),
            None if error.kind() == io::ErrorKind::NotFound => Problem::NotFound,
            None => Problem::Io(error),
        },
    };
    Err(Place { path }.file(problem))
}

/// Checks that `path`, a data file given on the command line, exists: a file at `path` (relative
/// to the current directory), or else one of the [`BUNDLED`] datasets. The error names `path`.
pub fn locate(path: &Path) -> Result<PathBuf, DataError> {
    source(path).map(|_| path.to_path_buf())
}

/// Reads and validates `path` (a file, or else a [`BUNDLED`] dataset). `label` names the label
/// column (default: the last column); `task` overrides [`Task::detect`].
pub fn load(path: &Path, label: Option<&str>, task: Option<Task>) -> Result<Table, DataError> {
    Ok(load_with(path, &LoadOptions::new(label, task))?.table)
}

/// Reads and validates CSV text from `input` as [`load`] does; `path` only names the data in the
/// table and in error messages (the file is not opened).
pub fn load_from_reader(
    path: &Path,
    input: impl Read,
    label: Option<&str>,
    task: Option<Task>,
) -> Result<Table, DataError> {
    Ok(read_table(path, input, &LoadOptions::new(label, task))?.table)
}

/// [`load`] with every option.
pub fn load_with(path: &Path, options: &LoadOptions) -> Result<Loaded, DataError> {
    match source(path)? {
        Source::Bundled(text) => read_table(path, text.as_bytes(), options),
        Source::File => {
            let file = File::open(path).map_err(|e| Place { path }.file(Problem::Io(e)))?;
            // Unbuffered: the csv reader buffers its input itself.
            read_table(path, file, options)
        }
    }
}

/// [`load_from_reader`] with every option.
pub fn read_table(
    path: &Path,
    input: impl Read,
    options: &LoadOptions,
) -> Result<Loaded, DataError> {
    let at = Place { path };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(options.delimiter.byte())
        .has_headers(false) // read the header ourselves, to check it like any row
        .flexible(true) // count fields ourselves, for a message that names the line
        .trim(csv::Trim::All)
        .from_reader(LineIndex::new(input));
    let mut record = csv::StringRecord::new();

    let Some(header_line) = next_record(&mut reader, &mut record, at, &[])? else {
        return Err(at.file(Problem::Empty));
    };
    let names: Vec<String> = record.iter().map(str::to_string).collect();
    let (roles, label_indices) = check_header(at, header_line, &names, options)?;
    let rows = read_rows(at, &mut reader, &names, &roles, options.drop_missing)?;
    let dropped = rows.dropped(&names);
    if rows.lines.len() < MIN_ROWS {
        return Err(at.file(Problem::TooFewRows {
            rows: rows.lines.len(),
            min: MIN_ROWS,
            dropped: dropped.rows,
        }));
    }

    let labels: Vec<Column> = label_indices.iter().map(|&i| column(&names, i)).collect();
    let task = match labels.len() {
        1 => options.task.unwrap_or_else(|| Task::detect(&rows.labels)),
        _ => Task::Regression,
    };
    let targets = targets(at, task, &labels, &rows.labels, &rows.lines)?;
    let feature_names = names
        .iter()
        .zip(&roles)
        .filter(|&(_, &role)| role == Role::Feature)
        .map(|(name, _)| name.clone())
        .collect();
    let table = Table {
        path: path.to_path_buf(),
        feature_names,
        labels,
        features: rows.features,
        targets,
        lines: rows.lines,
    };
    Ok(Loaded { table, dropped })
}

/// The data rows as read: features parsed, labels still text (the task is not known yet).
struct Rows {
    /// Row-major feature values.
    features: Vec<f32>,
    /// The label cell of each row (with several target columns, each row's cells in target
    /// order, row-major).
    labels: Vec<String>,
    /// The physical file line of each row.
    lines: Vec<u64>,
    /// Rows left out for a missing cell.
    dropped: usize,
    /// For each column, its missing cells in those rows.
    missing: Vec<usize>,
}

impl Rows {
    /// If a used cell of `record` is missing, counts the row and its missing cells as dropped
    /// and returns `true`.
    fn drop_if_missing(&mut self, record: &csv::StringRecord, roles: &[Role]) -> bool {
        let mut missing = false;
        for (index, (cell, &role)) in record.iter().zip(roles).enumerate() {
            if role != Role::Ignored && is_missing(cell) {
                self.missing[index] += 1;
                missing = true;
            }
        }
        self.dropped += usize::from(missing);
        missing
    }

    /// What was dropped, by column.
    fn dropped(&self, names: &[String]) -> Dropped {
        let by_column = (0..names.len())
            .filter(|&index| self.missing[index] > 0)
            .map(|index| (column(names, index), self.missing[index]))
            .collect();
        Dropped {
            of: self.lines.len() + self.dropped,
            rows: self.dropped,
            by_column,
        }
    }
}

/// Reads and checks every data row: each has the header's width, and every used cell is present
/// (else, with `drop_missing`, the row is left out) and, but for the label, a number.
fn read_rows<R: Read>(
    at: Place<'_>,
    reader: &mut csv::Reader<LineIndex<R>>,
    names: &[String],
    roles: &[Role],
    drop_missing: bool,
) -> Result<Rows, DataError> {
    let mut rows = Rows {
        features: Vec::new(),
        labels: Vec::new(),
        lines: Vec::new(),
        dropped: 0,
        missing: vec![0; names.len()],
    };
    let targets = roles.iter().filter(|r| matches!(r, Role::Label(_))).count();
    let mut record = csv::StringRecord::new();
    while let Some(line) = next_record(reader, &mut record, at, names)? {
        check_width(at, line, names, &record)?;
        if drop_missing && rows.drop_if_missing(&record, roles) {
            continue;
        }
        let first = rows.labels.len();
        rows.labels.resize(first + targets, String::new());
        for (index, cell) in record.iter().enumerate() {
            let fail = |problem| at.cell(line, Some(column(names, index)), problem);
            match roles[index] {
                Role::Ignored => {}
                _ if is_missing(cell) => return Err(fail(Problem::Missing(cell.to_string()))),
                Role::Label(k) => rows.labels[first + k] = cell.to_string(),
                Role::Feature => rows.features.push(parse_f32(cell).map_err(fail)?),
            }
        }
        rows.lines.push(line);
    }
    Ok(rows)
}

/// Checks that `record`, on file line `line`, has as many fields as the header.
fn check_width(
    at: Place<'_>,
    line: u64,
    names: &[String],
    record: &csv::StringRecord,
) -> Result<(), DataError> {
    let (expected, found) = (names.len(), record.len());
    if found == expected {
        return Ok(());
    }
    // A short row names its first missing column.
    let missing = names.get(found).map(|_| column(names, found));
    Err(at.cell(line, missing, Problem::Ragged { expected, found }))
}

/// Reads the next record into `record` and returns its physical line, or `None` after the last.
fn next_record<R: Read>(
    reader: &mut csv::Reader<LineIndex<R>>,
    record: &mut csv::StringRecord,
    at: Place<'_>,
    names: &[String],
) -> Result<Option<u64>, DataError> {
    match reader.read_record(record) {
        Ok(false) => Ok(None),
        Ok(true) => {
            let start = record.position().map_or(0, csv::Position::byte);
            Ok(Some(reader.get_mut().line_at(start)))
        }
        Err(error) => Err(from_csv_error(at, reader.get_mut(), names, error)),
    }
}

/// A reader that passes the file's bytes through unchanged and notes where each non-empty line
/// begins, so that the csv reader's byte offsets become physical line numbers.
///
/// The csv crate's own line count is not the file's: it counts only `\n`, so it is off with
/// `\r\n` endings, stuck at 1 in a file that ends lines with `\r` alone, and it places a record
/// on the blank lines before it. Here `\n`, `\r\n` and a lone `\r` each end one line, as each
/// ends a record for the csv crate.
struct LineIndex<R> {
    inner: R,
    /// Offset of the next byte to pass through.
    offset: u64,
    /// The physical line (1-based) of that byte.
    line: u64,
    /// The last byte was a `\r`: a `\n` now is the second half of `\r\n`, not a new line end.
    /// Kept across reads, since the pair can straddle two of them.
    after_cr: bool,
    /// The current line has a byte besides its terminator.
    line_has_text: bool,
    /// `(offset, line)` of the first byte of every non-empty line, in file order.
    starts: Vec<(u64, u64)>,
}

impl<R> LineIndex<R> {
    fn new(inner: R) -> Self {
        LineIndex {
            inner,
            offset: 0,
            line: 1,
            after_cr: false,
            line_has_text: false,
            starts: Vec::new(),
        }
    }

    /// Notes the line ends and line starts in `bytes`, the next bytes of the file.
    fn scan(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            match byte {
                b'\n' if self.after_cr => {} // `\r\n`: the line ended at the `\r`
                b'\n' | b'\r' => {
                    self.line += 1;
                    self.line_has_text = false;
                }
                _ if !self.line_has_text => {
                    self.starts.push((self.offset, self.line));
                    self.line_has_text = true;
                }
                _ => {}
            }
            self.after_cr = byte == b'\r';
            self.offset += 1;
        }
    }

    /// The physical line of a record the csv reader began at byte `offset`: the first non-empty
    /// line at or after it, since the reader steps over blank lines (and the `\n` of a `\r\n`)
    /// before a record's first byte.
    ///
    /// Records are looked up in file order, so the lines before `offset` are forgotten: the index
    /// holds only the lines read since the current record began, however long the file.
    fn line_at(&mut self, offset: u64) -> u64 {
        let next = self.starts.partition_point(|&(start, _)| start < offset);
        self.starts.drain(..next);
        self.starts.first().map_or(self.line, |&(_, line)| line)
    }
}

impl<R: Read> Read for LineIndex<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.scan(&buf[..n]);
        Ok(n)
    }
}

/// Where in the file a problem is; builds the [`DataError`].
#[derive(Clone, Copy)]
struct Place<'a> {
    path: &'a Path,
}

impl Place<'_> {
    /// A problem with the file as a whole.
    fn file(self, problem: Problem) -> DataError {
        self.error(None, None, problem)
    }

    /// A problem on one line, in one column if known.
    fn cell(self, line: u64, column: Option<Column>, problem: Problem) -> DataError {
        self.error(Some(line), column, problem)
    }

    fn error(self, line: Option<u64>, column: Option<Column>, problem: Problem) -> DataError {
        let file = self.path.to_path_buf();
        DataError {
            file,
            line,
            column,
            problem,
        }
    }
}

/// Column `index` (0-based) of the header `names`.
fn column(names: &[String], index: usize) -> Column {
    Column {
        name: names[index].clone(),
        number: index + 1,
    }
}

/// What a column of the file is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    /// A numeric input of the network.
    Feature,
    /// The target, or with `--targets` target `k`.
    Label(usize),
    /// Left out (`--ignore`): not read at all.
    Ignored,
}

/// Checks the header (on file line `line`, 1 unless blank lines precede it) and gives each column
/// its role: the label (or each of `--targets`), the ignored columns, and the rest as features.
/// Returns the roles and the target columns' 0-based indices, in target order.
fn check_header(
    at: Place<'_>,
    line: u64,
    names: &[String],
    options: &LoadOptions,
) -> Result<(Vec<Role>, Vec<usize>), DataError> {
    let on_header = |column, problem| at.cell(line, column, problem);
    check_names(at, line, names)?;
    if let [name] = names {
        if let Some(guess) = guess_delimiter(name, options.delimiter) {
            return Err(on_header(None, Problem::OtherDelimiter(guess)));
        }
    }
    let mut roles = vec![Role::Feature; names.len()];
    for name in &options.ignore {
        let index = names.iter().position(|n| n == name.trim()).ok_or_else(|| {
            at.file(Problem::NoSuchColumnToIgnore(Box::new(UnknownColumn {
                name: name.clone(),
                available: quoted_names(names),
            })))
        })?;
        roles[index] = Role::Ignored;
    }
    let labels = match &options.targets[..] {
        [] => vec![label_index(at, names, options.label.as_deref())?],
        targets => target_indices(at, names, targets)?,
    };
    for (k, &label) in labels.iter().enumerate() {
        if roles[label] == Role::Ignored {
            return Err(at.error(None, Some(column(names, label)), Problem::LabelIgnored));
        }
        roles[label] = Role::Label(k);
    }

    let features = roles.iter().filter(|&&role| role == Role::Feature).count();
    if features == 0 {
        return Err(on_header(None, Problem::NoFeatures));
    }
    if features > MAX_FEATURES {
        let found = features;
        return Err(on_header(
            None,
            Problem::TooManyFeatures {
                found,
                max: MAX_FEATURES,
            },
        ));
    }
    Ok((roles, labels))
}

/// Checks that the header names every column, each once, and is not a row of data.
fn check_names(at: Place<'_>, line: u64, names: &[String]) -> Result<(), DataError> {
    let on_header = |column, problem| at.cell(line, column, problem);
    if names.iter().all(String::is_empty) {
        return Err(at.file(Problem::Empty));
    }
    if names.iter().all(|name| parse_number(name).is_some()) {
        return Err(on_header(None, Problem::NoHeader));
    }
    let mut seen = HashMap::new();
    for (index, name) in names.iter().enumerate() {
        if name.is_empty() {
            return Err(on_header(
                Some(column(names, index)),
                Problem::UnnamedColumn,
            ));
        }
        if let Some(first) = seen.insert(name.as_str(), index) {
            let problem = Problem::DuplicateColumn { first: first + 1 };
            return Err(on_header(Some(column(names, index)), problem));
        }
    }
    Ok(())
}

/// The 0-based index of the label column: the one named `label`, else the last.
fn label_index(at: Place<'_>, names: &[String], label: Option<&str>) -> Result<usize, DataError> {
    match label {
        None => Ok(names.len() - 1),
        Some(label) => names.iter().position(|n| n == label).ok_or_else(|| {
            at.file(Problem::NoSuchLabel {
                label: label.to_string(),
                available: quoted_names(names),
            })
        }),
    }
}

/// The 0-based indices of the `--targets` columns, in their order; each named once.
fn target_indices(
    at: Place<'_>,
    names: &[String],
    targets: &[String],
) -> Result<Vec<usize>, DataError> {
    if targets.len() > MAX_TARGETS {
        let found = targets.len();
        return Err(at.file(Problem::TooManyTargets {
            found,
            max: MAX_TARGETS,
        }));
    }
    let mut indices: Vec<usize> = Vec::with_capacity(targets.len());
    for target in targets {
        let index = label_index(at, names, Some(target.trim()))?;
        if indices.contains(&index) {
            return Err(at.file(Problem::RepeatedTarget(target.clone())));
        }
        indices.push(index);
    }
    Ok(indices)
}

/// The header's names for a message: `'a', 'b', 'label'`.
fn quoted_names(names: &[String]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("'{}'", Excerpt(n))).collect();
    quoted.join(", ")
}

/// The delimiter that a header read as one column probably uses instead of `used`: the most
/// frequent of `,` `;` tab `|` in its one name, if any is there.
fn guess_delimiter(name: &str, used: Delimiter) -> Option<Delimiter> {
    [b',', b';', b'\t', b'|']
        .into_iter()
        .filter(|&byte| byte != used.byte())
        .map(|byte| (name.bytes().filter(|&b| b == byte).count(), byte))
        .filter(|&(count, _)| count > 0)
        .max_by_key(|&(count, _)| count)
        .map(|(_, byte)| Delimiter(byte))
}

/// The labels' text as regression values or as classes; `lines` are their file lines.
fn targets(
    at: Place<'_>,
    task: Task,
    columns: &[Column],
    labels: &[String],
    lines: &[u64],
) -> Result<Targets, DataError> {
    let label = &columns[0];
    let whole_column = |problem| at.error(None, Some(label.clone()), problem);
    match task {
        Task::Regression => {
            // `labels` holds each row's target cells in `columns`' order.
            let cells = labels.chunks_exact(columns.len()).zip(lines);
            let values = cells.flat_map(|(row, &line)| {
                row.iter().zip(columns).map(move |(text, column)| {
                    parse_f32(text).map_err(|problem| at.cell(line, Some(column.clone()), problem))
                })
            });
            Ok(Targets::Values(values.collect::<Result<_, _>>()?))
        }
        Task::Classification => {
            let (labels, names) = classes_of(labels);
            if names.len() < 2 {
                return Err(whole_column(Problem::SingleClass(names.concat())));
            }
            if names.len() > MAX_CLASSES {
                let found = names.len();
                return Err(whole_column(Problem::TooManyClasses {
                    found,
                    max: MAX_CLASSES,
                }));
            }
            Ok(Targets::Classes { labels, names })
        }
    }
}

/// Sorted class names and each label's class index: numeric order when every label is an integer
/// (so `2` comes before `10`), else lexicographic order of the text.
fn classes_of(labels: &[String]) -> (Vec<u16>, Vec<String>) {
    let integers: Option<Vec<Integer>> = labels.iter().map(|l| Integer::parse(l)).collect();
    match integers {
        Some(values) => {
            let classes: Vec<Integer> = values
                .iter()
                .cloned()
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            let index = values.iter().map(|v| class_index(&classes, v)).collect();
            (index, classes.iter().map(Integer::to_string).collect())
        }
        None => {
            let classes: Vec<&str> = labels
                .iter()
                .map(String::as_str)
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            let index = labels
                .iter()
                .map(|l| class_index(&classes, &l.as_str()))
                .collect();
            (index, classes.iter().map(|c| c.to_string()).collect())
        }
    }
}

/// Position of `value` in the sorted `classes` (which contain it); saturates, but callers reject more
/// than [`MAX_CLASSES`] classes anyway.
fn class_index<T: Ord>(classes: &[T], value: &T) -> u16 {
    let index = classes.binary_search(value).unwrap_or(0);
    u16::try_from(index).unwrap_or(u16::MAX)
}

/// `" left after --drop-missing dropped N"` for [`Problem::TooFewRows`], if it dropped any.
fn after_dropping(dropped: usize) -> String {
    if dropped == 0 {
        String::new()
    } else {
        format!(" left after --drop-missing dropped {dropped}")
    }
}

/// `true` for an empty cell or a spelled-out missing value.
fn is_missing(cell: &str) -> bool {
    cell.is_empty() || cell.eq_ignore_ascii_case("na") || cell.eq_ignore_ascii_case("nan")
}

/// A finite number, or `None`.
fn parse_number(text: &str) -> Option<f64> {
    text.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// An integer label of any size, as canonical decimal text. Equal integers are one class however
/// they are written (`7`, `007`, `+7`, `7.0`) and classes sort numerically (`2` before `10`),
/// without going through `f64`, which holds integers exactly only up to 2^53.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Integer {
    /// Below zero (never for zero itself).
    negative: bool,
    /// The magnitude's decimal digits, without leading zeros (`"0"` for zero).
    digits: String,
}

impl Integer {
    /// `text` as an integer: decimal digits with an optional sign and an optional all-zero
    /// fraction (`-12`, `+3`, `4.00`) of any length, or else a float with no fractional part
    /// below 2^53 (`1e3`).
    fn parse(text: &str) -> Option<Integer> {
        Integer::from_digits(text)
            .or_else(|| parse_number(text).and_then(as_integer).map(Integer::from))
    }

    /// `[+-]digits[.000]`, as an integer.
    fn from_digits(text: &str) -> Option<Integer> {
        let (negative, unsigned) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text.strip_prefix('+').unwrap_or(text)),
        };
        let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
        let is_digits = !whole.is_empty() && whole.bytes().all(|b| b.is_ascii_digit());
        if !is_digits || fraction.bytes().any(|b| b != b'0') {
            return None;
        }
        let digits = match whole.trim_start_matches('0') {
            "" => "0",
            digits => digits,
        };
        Some(Integer {
            negative: negative && digits != "0",
            digits: digits.to_string(),
        })
    }
}

impl From<i64> for Integer {
    fn from(value: i64) -> Self {
        Integer {
            negative: value < 0,
            digits: value.unsigned_abs().to_string(),
        }
    }
}

impl Ord for Integer {
    fn cmp(&self, other: &Self) -> Ordering {
        // Magnitudes without leading zeros: more digits is larger, else the first differing digit.
        let magnitude = (self.digits.len(), &self.digits).cmp(&(other.digits.len(), &other.digits));
        match (self.negative, other.negative) {
            (false, false) => magnitude,
            (true, true) => magnitude.reverse(),
            (false, true) => Ordering::Greater,
            (true, false) => Ordering::Less,
        }
    }
}

impl PartialOrd for Integer {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Integer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.negative { "-" } else { "" };
        write!(f, "{sign}{}", self.digits)
    }
}

/// The value as an integer if it has no fractional part (and is exactly representable).
fn as_integer(value: f64) -> Option<i64> {
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
    (value.fract() == 0.0 && value.abs() < EXACT).then_some(value as i64)
}

/// Parses as `f64` (the usual text precision), then rounds to the `f32` the network computes with.
fn parse_f32(text: &str) -> Result<f32, Problem> {
    let value: f64 = text
        .parse()
        .map_err(|_| Problem::NotNumeric(text.to_string()))?;
    let single = value as f32;
    if single.is_finite() {
        Ok(single)
    } else {
        Err(Problem::NotFinite(text.to_string()))
    }
}

/// A `csv` crate error, with the line (found from its byte offset in `lines`) and, for bad
/// UTF-8, the column.
fn from_csv_error<R>(
    at: Place<'_>,
    lines: &mut LineIndex<R>,
    names: &[String],
    error: csv::Error,
) -> DataError {
    let line = error.position().map(|p| lines.line_at(p.byte()));
    let (column, problem) = match error.kind() {
        csv::ErrorKind::Utf8 { err, .. } => {
            let column = names.get(err.field()).map(|name| Column {
                name: name.clone(),
                number: err.field() + 1,
            });
            (
                column,
                Problem::Csv("the text is not valid UTF-8".to_string()),
            )
        }
        csv::ErrorKind::Io(e) => (None, Problem::Csv(format!("cannot read the file: {e}"))),
        _ => (None, Problem::Csv(error.to_string())),
    };
    at.error(line, column, problem)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// Writes `text` to a temporary file named `name` and loads it.
    fn load_text(
        name: &str,
        text: &[u8],
        label: Option<&str>,
        task: Option<Task>,
    ) -> Result<Table, DataError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        File::create(&path).unwrap().write_all(text).unwrap();
        load(&path, label, task)
    }

    /// The message of loading `text` as `bad.csv`, which must fail.
    fn message(text: &str) -> String {
        load_text("bad.csv", text.as_bytes(), None, None)
            .unwrap_err()
            .to_string()
    }

    /// Twelve good rows of `a,b,label` with two classes.
    fn good_rows() -> String {
        (0..12)
            .map(|i| format!("{}.5,{},{}\n", i, i * 2, i % 2))
            .collect()
    }

    /// A good file: the header `a,b,label`, then [`good_rows`].
    fn good_text() -> String {
        format!("a,b,label\n{}", good_rows())
    }

    /// `--targets` in the user's order, not the file's: row-major values, one column each, and the
    /// rest of the columns are the features.
    #[test]
    fn several_targets_load_in_the_order_named() {
        let text = format!("a,b,label\n{}", good_rows());
        let options = LoadOptions {
            targets: vec!["label".into(), "a".into()],
            ..LoadOptions::default()
        };
        let table = read_table(Path::new("t.csv"), text.as_bytes(), &options)
            .unwrap()
            .table;
        assert_eq!(table.task(), Task::Regression);
        assert_eq!(table.feature_names, ["b"]);
        let names: Vec<&str> = table.labels.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            (names, table.label().number, table.target_width()),
            (vec!["label", "a"], 3, 2)
        );
        let Targets::Values(values) = &table.targets else {
            panic!("expected values")
        };
        assert_eq!(&values[..6], &[0.0, 0.5, 1.0, 1.5, 0.0, 2.5]);
        let mut y = [0.0; 2];
        tinytrain::data::Dataset::load_target(&table.dataset(), 1, &mut y);
        assert_eq!(y, [1.0, 1.5]);
    }

    #[test]
    fn detects_the_task_from_the_labels() {
        assert_eq!(Task::detect(&["setosa", "1"]), Task::Classification);
        assert_eq!(Task::detect(&["1", "2.5"]), Task::Regression);
        assert_eq!(Task::detect(&["0", "1", "2", "1.0"]), Task::Classification);
        let many: Vec<String> = (0..33).map(|i| i.to_string()).collect();
        assert_eq!(Task::detect(&many[..32]), Task::Classification);
        assert_eq!(Task::detect(&many), Task::Regression);
    }

    #[test]
    fn integer_labels_beyond_2_pow_53_are_classes() {
        let big = ["9007199254740993", "9007199254740995"];
        assert_eq!(Task::detect(&big), Task::Classification);
        assert_eq!(Task::detect(&["1e300", "2"]), Task::Regression);
        let labels: Vec<String> = [
            "100000000000000000000000",
            "-12345678901234567890",
            "007",
            "9007199254740993",
            "3",
            "+7.00",
            "-5",
            "1e1",
            "-0",
        ]
        .map(String::from)
        .to_vec();
        let (index, names) = classes_of(&labels);
        let sorted = [
            "-12345678901234567890",
            "-5",
            "0",
            "3",
            "7",
            "10",
            "9007199254740993",
            "100000000000000000000000",
        ];
        assert_eq!(names, sorted);
        assert_eq!(index, [7, 0, 4, 6, 3, 4, 1, 5, 2]);
    }

    #[test]
    fn loads_features_classes_and_lines() {
        let text = format!("a,b,label\n{}", good_rows());
        let table = load_text("ok.csv", text.as_bytes(), None, None).unwrap();
        assert_eq!((table.rows(), table.width(), table.classes()), (12, 2, 2));
        assert_eq!(table.feature_names, ["a", "b"]);
        assert_eq!(
            *table.label(),
            Column {
                name: "label".into(),
                number: 3
            }
        );
        assert_eq!(&table.features[..4], &[0.5, 0.0, 1.5, 2.0]);
        assert_eq!(table.lines[0], 2);
        assert_eq!(table.task(), Task::Classification);
    }

    #[test]
    fn sorts_integer_classes_numerically_and_text_classes_lexicographically() {
        let numbers: String = (0..12)
            .map(|i| format!("{i},{}\n", [10, 2, 1][i % 3]))
            .collect();
        let table = load_text("n.csv", format!("x,y\n{numbers}").as_bytes(), None, None).unwrap();
        assert_eq!(table.class_names(), ["1", "2", "10"]);
        let words: String = (0..12)
            .map(|i| format!("{i},{}\n", ["b", "a", "B"][i % 3]))
            .collect();
        let table = load_text("w.csv", format!("x,y\n{words}").as_bytes(), None, None).unwrap();
        assert_eq!(table.class_names(), ["B", "a", "b"]);
        match &table.targets {
            Targets::Classes { labels, .. } => assert_eq!(&labels[..3], &[2, 1, 0]),
            Targets::Values(_) => panic!("expected classes"),
        }
    }

    #[test]
    fn label_column_by_name_and_forced_regression() {
        let text = format!("a,b,label\n{}", good_rows());
        let table =
            load_text("ok.csv", text.as_bytes(), Some("a"), Some(Task::Regression)).unwrap();
        assert_eq!(table.feature_names, ["b", "label"]);
        assert_eq!(
            table.targets,
            Targets::Values((0..12).map(|i| i as f32 + 0.5).collect())
        );
    }

    #[test]
    fn missing_cells_name_line_and_column() {
        for missing in ["", "NA", "nan", "NaN", "na"] {
            let text = format!("a,b,label\n{}1,{missing},0\n", good_rows());
            let m = message(&text);
            assert!(
                m.contains("bad.csv: line 14, column 'b' (2): missing value"),
                "{m}"
            );
        }
    }

    #[test]
    fn non_numeric_and_non_finite_features() {
        let m = message(&format!("a,b,label\n1,x1,0\n{}", good_rows()));
        assert_eq!(
            m.split_once(": ").unwrap().1,
            "line 2, column 'b' (2): 'x1' is not a number"
        );
        let m = message(&format!("a,b,label\n{}inf,1,0\n", good_rows()));
        assert!(
            m.contains("line 14, column 'a' (1): 'inf' is not a finite"),
            "{m}"
        );
        let m = message(&format!("a,b,label\n{}1e39,1,0\n", good_rows()));
        assert!(m.contains("line 14, column 'a' (1): '1e39'"), "{m}");
    }

    #[test]
    fn ragged_rows() {
        let m = message(&format!("a,b,label\n{}1,2\n", good_rows()));
        let expected =
            "bad.csv: line 14, column 'label' (3): the row has 2 fields but the header has 3";
        assert!(m.contains(expected), "{m}");
        let m = message(&format!("a,b,label\n1,2,3,4\n{}", good_rows()));
        assert!(
            m.contains("bad.csv: line 2: the row has 4 fields but the header has 3"),
            "{m}"
        );
    }

    #[test]
    fn unknown_label_lists_the_columns() {
        let text = format!("a,b,label\n{}", good_rows());
        let m = load_text("bad.csv", text.as_bytes(), Some("class"), None)
            .unwrap_err()
            .to_string();
        assert!(
            m.contains(
                "bad.csv: there is no label column 'class'; the columns are: 'a', 'b', 'label'"
            ),
            "{m}"
        );
    }

    #[test]
    fn a_single_class_is_rejected() {
        let rows: String = (0..12).map(|i| format!("{i},{i},7\n")).collect();
        let m = message(&format!("a,b,label\n{rows}"));
        assert!(
            m.contains("bad.csv: column 'label' (3): every row has the same class '7'"),
            "{m}"
        );
    }

    #[test]
    fn too_few_rows() {
        let m = message("a,b,label\n1,2,0\n3,4,1\n");
        assert!(
            m.contains("bad.csv: only 2 data rows; at least 10 are needed"),
            "{m}"
        );
        let m = message("a,b,label\n");
        assert!(m.contains("only 0 data rows"), "{m}");
    }

    #[test]
    fn empty_file_and_missing_header() {
        assert!(message("").contains("bad.csv: the file is empty"));
        assert!(message("\n\n").contains("the file is empty"));
        let m = message(&good_rows());
        assert!(
            m.contains("bad.csv: line 1: the first line holds only numbers"),
            "{m}"
        );
    }

    #[test]
    fn bad_headers() {
        let m = message(&format!("a,,label\n{}", good_rows()));
        assert!(
            m.contains("line 1, column '' (2): the header gives this column no name"),
            "{m}"
        );
        let m = message(&format!("a,a,label\n{}", good_rows()));
        assert!(
            m.contains("line 1, column 'a' (2): the column name is used twice (also by column 1)"),
            "{m}"
        );
        let m = message("label\n1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n");
        assert!(m.contains("line 1: there are no feature columns"), "{m}");
    }

    #[test]
    fn too_many_features_and_classes() {
        let header: Vec<String> = (0..=MAX_FEATURES).map(|i| format!("f{i}")).collect();
        let m = message(&format!("{},label\n", header.join(",")));
        assert!(
            m.contains("line 1: 1025 feature columns, more than the maximum of 1024"),
            "{m}"
        );
        let rows: String = (0..130).map(|i| format!("{i},c{}\n", i / 2)).collect();
        let m = message(&format!("x,label\n{rows}"));
        assert!(
            m.contains("column 'label' (2): 65 classes, more than the maximum of 64"),
            "{m}"
        );
    }

    #[test]
    fn regression_targets_must_be_numbers() {
        let text = format!("a,b,label\n{}1,2,high\n", good_rows());
        let m = load_text("bad.csv", text.as_bytes(), None, Some(Task::Regression))
            .unwrap_err()
            .to_string();
        assert!(
            m.contains("line 14, column 'label' (3): 'high' is not a number"),
            "{m}"
        );
    }

    #[test]
    fn invalid_utf8_names_line_and_column() {
        let mut text = format!("a,b,label\n{}", good_rows()).into_bytes();
        text.extend_from_slice(b"1,\xff,0\n");
        let m = load_text("bad.csv", &text, None, None)
            .unwrap_err()
            .to_string();
        assert!(
            m.contains("line 14, column 'b' (2): the text is not valid UTF-8"),
            "{m}"
        );
    }

    /// The message of loading `text` from a reader that hands over `chunk` bytes per read.
    fn message_in_chunks(text: &str, chunk: usize) -> String {
        struct Chunks<'a>(&'a [u8], usize);
        impl Read for Chunks<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = self.1.min(buf.len()).min(self.0.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let input = Chunks(text.as_bytes(), chunk);
        load_from_reader(Path::new("bad.csv"), input, None, None)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn lines_are_physical_with_crlf_cr_and_blank_lines() {
        let rows = good_rows();
        let crlf = format!("a,b,label\n{rows}1,x,0\n").replace('\n', "\r\n");
        let cr = crlf.replace("\r\n", "\r");
        let blank = format!("a,b,label\n\n{}\n\n1,x,0\n", rows.replace('\n', "\n\n"));
        for (name, text, line) in [
            ("CRLF", crlf.as_str(), 14),
            ("CR", cr.as_str(), 14),
            ("blank lines", blank.as_str(), 29),
        ] {
            let m = message(text);
            let expected = format!("bad.csv: line {line}, column 'b' (2): 'x' is not a number");
            assert!(m.ends_with(&format!("/{expected}")), "{name}: {m}");
            // A `\r\n` split over two reads is still one line end.
            assert_eq!(message_in_chunks(text, 1), expected, "{name}, byte by byte");
        }
        let text = format!("a,b,label\r\n\r\n{}", rows.replace('\n', "\r\n\r\n"));
        let table = load_text("ok.csv", text.as_bytes(), None, None).unwrap();
        assert_eq!(
            table.lines,
            (1..=12).map(|i| 1 + 2 * i).collect::<Vec<u64>>()
        );
    }

    #[test]
    fn lines_match_a_plain_count_for_any_endings_blank_lines_and_reads() {
        // A small deterministic generator (an LCG), so that the test needs no crate.
        let mut state = 7u64;
        let mut next = |n: u64| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            (state >> 33) % n
        };
        for _ in 0..200 {
            let end = ["\n", "\r\n", "\r"][next(3) as usize];
            let bad_row = next(15);
            let mut lines = vec!["a,b,label".to_string()];
            let mut bad_line = 0;
            for row in 0..15 {
                for _ in 0..next(3) {
                    lines.push(String::new());
                }
                let b = if row == bad_row { "x" } else { "1" };
                lines.push(format!("{row},{b},{}", row % 2));
                if row == bad_row {
                    bad_line = lines.len();
                }
            }
            let text = lines.join(end) + end;
            let expected = format!("bad.csv: line {bad_line}, column 'b' (2): 'x' is not a number");
            for chunk in [1, 2, 3, 7, 8192] {
                assert_eq!(
                    message_in_chunks(&text, chunk),
                    expected,
                    "{text:?}, {chunk}"
                );
            }
        }
    }

    #[test]
    fn a_header_after_blank_lines_is_on_its_own_line() {
        let m = message(&format!("\n\r\na,,label\n{}", good_rows()));
        assert!(
            m.contains("bad.csv: line 3, column '' (2): the header gives this column no name"),
            "{m}"
        );
        let mut text = format!("\n\na,b,label\n{}", good_rows()).into_bytes();
        text.extend_from_slice(b"\r\n\r\n1,\xff,0\n");
        let m = load_text("bad.csv", &text, None, None)
            .unwrap_err()
            .to_string();
        assert!(
            m.contains("line 18, column 'b' (2): the text is not valid UTF-8"),
            "{m}"
        );
    }

    #[test]
    fn messages_quote_a_huge_cell_by_its_start_and_size() {
        assert_eq!(Excerpt("short").to_string(), "short");
        let exact = "é".repeat(EXCERPT_CHARS);
        assert_eq!(Excerpt(&exact).to_string(), exact);
        let long = format!("{exact}z");
        assert_eq!(Excerpt(&long).to_string(), format!("{exact}… (81 bytes)"));

        let cell = "7".repeat(1000) + "x";
        let name = "n".repeat(100);
        let m = message(&format!("a,{name},label\n1,{cell},0\n{}", good_rows()));
        let column = format!("column '{}… (100 bytes)' (2)", &name[..40]);
        let problem = format!("'{}… (1001 bytes)' is not a number", &cell[..40]);
        assert!(m.ends_with(&format!("line 2, {column}: {problem}")), "{m}");
    }

    #[test]
    fn delimiters_parse_and_print() {
        for (text, byte) in [(";", b';'), ("tab", b'\t'), ("TAB", b'\t'), ("\\t", b'\t')] {
            assert_eq!(text.parse::<Delimiter>(), Ok(Delimiter(byte)), "{text}");
        }
        assert_eq!("\t".parse::<Delimiter>(), Ok(Delimiter::TAB));
        for bad in ["", ";;", "é", "\"", "\n"] {
            assert!(bad.parse::<Delimiter>().is_err(), "{bad:?}");
        }
        assert_eq!(Delimiter::TAB.to_string().parse(), Ok(Delimiter::TAB));
        assert_eq!(
            (Delimiter::TAB.quoted(), Delimiter(b';').quoted()),
            ("tab".into(), "';'".into())
        );
    }

    #[test]
    fn another_delimiter_is_named_and_can_be_read() {
        let semicolons = format!("a;b;label\n{}", good_rows().replace(',', ";"));
        let m = message(&semicolons);
        assert!(
            m.ends_with("bad.csv: line 1: the header has one column; the file looks ';'-separated: pass --delimiter ';'"),
            "{m}"
        );
        let tabs = semicolons.replace(';', "\t");
        assert!(message(&tabs).ends_with("looks tab-separated: pass --delimiter tab"));
        let options = LoadOptions {
            delimiter: Delimiter::TAB,
            ..LoadOptions::default()
        };
        let table = read_table(Path::new("t.tsv"), tabs.as_bytes(), &options)
            .unwrap()
            .table;
        assert_eq!((table.rows(), table.width()), (12, 2));
        let m = read_table(Path::new("t.tsv"), semicolons.as_bytes(), &options)
            .unwrap_err()
            .to_string();
        assert!(
            m.ends_with("looks ';'-separated: pass --delimiter ';'"),
            "{m}"
        );
        let m = read_table(Path::new("t.csv"), good_text().as_bytes(), &options)
            .unwrap_err()
            .to_string();
        assert!(
            m.ends_with("looks ','-separated: pass --delimiter ','"),
            "{m}"
        );
    }

    /// Loads `text` as `t.csv` with `options`.
    fn read_with_dropped(text: &str, options: &LoadOptions) -> Result<Loaded, DataError> {
        read_table(Path::new("t.csv"), text.as_bytes(), options)
    }

    /// The table of [`read_with_dropped`].
    fn read_with(text: &str, options: &LoadOptions) -> Result<Table, DataError> {
        read_with_dropped(text, options).map(|loaded| loaded.table)
    }

    #[test]
    fn ignored_columns_are_not_read() {
        let rows: String = (0..12).map(|i| format!("id{i},{i},,{}\n", i % 2)).collect();
        let text = format!("id,x,notes,label\n{rows}");
        let options = LoadOptions {
            ignore: vec!["id".into(), " notes".into()],
            ..LoadOptions::default()
        };
        let table = read_with(&text, &options).unwrap();
        assert_eq!(table.feature_names, ["x"]);
        assert_eq!(table.features[..3], [0.0, 1.0, 2.0]);
        assert_eq!(table.label().number, 4);
        let m = read_with(&text, &LoadOptions::default())
            .unwrap_err()
            .to_string();
        assert_eq!(m, "t.csv: line 2, column 'id' (1): 'id0' is not a number");
    }

    #[test]
    fn ignoring_an_unknown_column_or_the_label_is_an_error() {
        let ignore = |names: &[&str], label: Option<&str>| {
            let options = LoadOptions {
                ignore: names.iter().map(|n| n.to_string()).collect(),
                label: label.map(String::from),
                ..LoadOptions::default()
            };
            read_with(&good_text(), &options).unwrap_err().to_string()
        };
        assert_eq!(
            ignore(&["c"], None),
            "t.csv: --ignore names no column 'c'; the columns are: 'a', 'b', 'label'"
        );
        let label_ignored =
            "column 'label' (3): the label column cannot also be ignored (--ignore)";
        assert_eq!(ignore(&["label"], None), format!("t.csv: {label_ignored}"));
        assert_eq!(
            ignore(&["a"], Some("a")),
            "t.csv: column 'a' (1): the label column cannot also be ignored (--ignore)"
        );
        assert_eq!(
            ignore(&["a", "b"], None),
            "t.csv: line 1: there are no feature columns: besides the label, at least one column is needed"
        );
    }

    #[test]
    fn drop_missing_leaves_out_rows_with_gaps_and_counts_them() {
        let text = format!("id,a,b,label\n{}", good_rows());
        let mut lines: Vec<String> = text.lines().map(|l| format!("x,{l}")).collect();
        lines[0] = "id,a,b,label".into();
        lines[3] = "x,NA,,1".into(); // line 4: two gaps
        lines[6] = "NA,nan,6,0".into(); // line 7: a gap, and one in an ignored column
        lines.push("x,1,2,".into()); // line 14: no label
        let text = lines.join("\n");
        let options = LoadOptions {
            ignore: vec!["id".into()],
            drop_missing: true,
            ..LoadOptions::default()
        };
        let loaded = read_with_dropped(&text, &options).unwrap();
        assert_eq!(loaded.table.rows(), 10);
        let kept: Vec<u64> = (2..=13).filter(|&l| l != 4 && l != 7).collect();
        assert_eq!(loaded.table.lines, kept);
        let named = |name: &str, number| Column {
            name: name.into(),
            number,
        };
        assert_eq!(
            loaded.dropped,
            Dropped {
                of: 13,
                rows: 3,
                by_column: vec![
                    (named("a", 2), 2),
                    (named("b", 3), 1),
                    (named("label", 4), 1)
                ],
            }
        );
        assert_eq!(
            loaded.dropped.to_string(),
            "--drop-missing dropped 3 of 13 data rows; missing cells: 2 in column 'a' (2), \
             1 in column 'b' (3), 1 in column 'label' (4)"
        );
        // Without it, the first gap stops the load.
        let strict = LoadOptions {
            drop_missing: false,
            ..options
        };
        let m = read_with(&text, &strict).unwrap_err().to_string();
        assert_eq!(m, "t.csv: line 4, column 'a' (2): missing value 'NA'");
    }

    #[test]
    fn too_few_rows_after_dropping_says_so() {
        let rows: String = (0..12)
            .map(|i| format!("{i},{},{}\n", if i < 5 { "NA" } else { "1" }, i % 2))
            .collect();
        let options = LoadOptions {
            drop_missing: true,
            ..LoadOptions::default()
        };
        let m = read_with(&format!("a,b,label\n{rows}"), &options)
            .unwrap_err()
            .to_string();
        assert_eq!(
            m,
            "t.csv: only 7 data rows left after --drop-missing dropped 5; at least 10 are needed"
        );
    }

    #[test]
    fn locate_names_the_path_relative_to_the_current_directory() {
        let m = locate(Path::new("no-such-file.csv"))
            .unwrap_err()
            .to_string();
        assert_eq!(m, "no-such-file.csv: file not found");
        // Not looked up in the checkout's `data/` folder.
        assert!(locate(Path::new("iris.csv")).is_err());
    }

    #[test]
    fn a_directory_is_not_a_data_file() {
        let dir = tempfile::tempdir().unwrap();
        let m = locate(dir.path()).unwrap_err().to_string();
        assert_eq!(
            m,
            format!("{}: is a directory, not a CSV file", dir.path().display())
        );
        let m = load(dir.path(), None, None).unwrap_err().to_string();
        assert!(m.ends_with(": is a directory, not a CSV file"), "{m}");
    }

    #[test]
    fn bundled_datasets_are_the_files_of_data() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        for (name, text) in BUNDLED {
            assert_eq!(
                std::fs::read_to_string(root.join(name)).unwrap(),
                text,
                "{name}"
            );
        }
        let names: Vec<_> = std::fs::read_dir(root.join("data"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.ends_with(".csv"))
            .collect();
        assert_eq!(names.len(), BUNDLED.len(), "{names:?}");
    }
}
