//! Reading new rows for a trained run (`tinytrain predict`): the file must have the run's feature
//! columns, found by name in any order and handed back in the run's order; the run's label column
//! is read when the file has it (then labels map to the run's classes, not to classes of their
//! own); any other column is an error unless it is ignored. The cells are read as [`read_table`]
//! reads them, with its errors (file, line, column), but without its minimum row count, task
//! detection or `--drop-missing`: one prediction per data row, so a missing cell is an error.
//!
//! [`read_table`]: super::read_table

use std::io::Read;
use std::path::{Path, PathBuf};

use tinytrain::data::SliceDataset;

use super::{
    check_names, check_width, column, guess_delimiter, is_missing, next_record, parse_f32,
    quoted_names, source, Column, DataError, Delimiter, Integer, LineIndex, Place, Problem, Source,
    Targets, UnknownColumn,
};

/// The columns a run was trained on.
#[derive(Clone, Copy, Debug)]
pub struct Schema<'a> {
    /// Feature columns, in the network's input order.
    pub features: &'a [String],
    /// The target columns' names: the label column's, or a `--targets` run's, in output order.
    pub labels: &'a [String],
    /// Class names in class-index order; `None` for regression.
    pub classes: Option<&'a [String]>,
    /// The cell separator.
    pub delimiter: Delimiter,
    /// Columns to leave out when the file has them (the run's `--ignore` and the caller's).
    pub ignore: &'a [String],
}

/// Rows read against a [`Schema`].
#[derive(Clone, Debug)]
pub struct Inputs {
    /// The file they were read from.
    pub path: PathBuf,
    /// Features per row (the schema's feature count).
    pub width: usize,
    /// `rows × width` values, row-major, features in the schema's order.
    pub features: Vec<f32>,
    /// Physical file line of each data row.
    pub lines: Vec<u64>,
    /// The label column (the first target column), when the file has the target columns.
    pub label: Option<Column>,
    /// Each row's target (class indices into the schema's classes, or values, the schema's
    /// targets per row, row-major), when the file has the target columns.
    pub targets: Option<Targets>,
    /// Target values per row (the schema's target columns; 1 for classification).
    pub target_width: usize,
}

impl Inputs {
    /// Number of data rows.
    pub fn rows(&self) -> usize {
        self.lines.len()
    }

    /// The rows as the core's dataset, when they have targets.
    pub fn dataset(&self) -> Option<SliceDataset<'_>> {
        Some(match self.targets.as_ref()? {
            Targets::Classes { labels, .. } => {
                SliceDataset::classification(&self.features, self.width, labels)
            }
            Targets::Values(values) => SliceDataset::regression_outputs(
                &self.features,
                self.width,
                values,
                self.target_width,
            ),
        })
    }
}

/// What a column of the file is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Use {
    /// The schema's feature `k`.
    Feature(usize),
    /// Target `k` (the label).
    Label(usize),
    /// Left out.
    Ignored,
}

/// Reads `path` (a file, or else a bundled dataset, as [`super::load_with`]) against `schema`.
pub fn read_for(path: &Path, schema: &Schema<'_>) -> Result<Inputs, DataError> {
    match source(path)? {
        Source::Bundled(text) => read_from(path, text.as_bytes(), schema),
        Source::File => {
            let file =
                std::fs::File::open(path).map_err(|e| Place { path }.file(Problem::Io(e)))?;
            read_from(path, file, schema)
        }
    }
}

/// [`read_for`] from any reader; `path` only names the data in messages.
pub fn read_from(path: &Path, input: impl Read, schema: &Schema<'_>) -> Result<Inputs, DataError> {
    let at = Place { path };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(schema.delimiter.byte())
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(LineIndex::new(input));
    let mut record = csv::StringRecord::new();
    let Some(header_line) = next_record(&mut reader, &mut record, at, &[])? else {
        return Err(at.file(Problem::Empty));
    };
    let names: Vec<String> = record.iter().map(str::to_string).collect();
    let uses = check_header(at, header_line, &names, schema)?;
    let label = uses
        .iter()
        .position(|&u| u == Use::Label(0))
        .map(|index| column(&names, index));
    let width = schema.features.len();
    let k = schema.labels.len().max(1);

    let (mut features, mut lines) = (Vec::new(), Vec::new());
    let (mut classes, mut values) = (Vec::new(), Vec::new());
    let mut row = vec![0.0f32; width];
    let mut target_row = vec![0.0f32; k];
    while let Some(line) = next_record(&mut reader, &mut record, at, &names)? {
        check_width(at, line, &names, &record)?;
        for (index, cell) in record.iter().enumerate() {
            let fail = |problem| at.cell(line, Some(column(&names, index)), problem);
            match uses[index] {
                Use::Ignored => {}
                _ if is_missing(cell) => return Err(fail(Problem::Missing(cell.to_string()))),
                Use::Label(j) => match schema.classes {
                    Some(names) => classes.push(class_of(cell, names).map_err(fail)?),
                    None => target_row[j] = parse_f32(cell).map_err(fail)?,
                },
                Use::Feature(k) => row[k] = parse_f32(cell).map_err(fail)?,
            }
        }
        features.extend_from_slice(&row);
        if label.is_some() && schema.classes.is_none() {
            values.extend_from_slice(&target_row);
        }
        lines.push(line);
    }
    if lines.is_empty() {
        return Err(at.file(Problem::NoRows));
    }
    let targets = label.as_ref().map(|_| match schema.classes {
        Some(names) => Targets::Classes {
            labels: classes,
            names: names.to_vec(),
        },
        None => Targets::Values(values),
    });
    Ok(Inputs {
        path: path.to_path_buf(),
        width,
        features,
        lines,
        label,
        targets,
        target_width: k,
    })
}

/// The class index of a label cell among the run's `classes` (integer classes by value, so `07`
/// is class `7`, as when the run read its labels).
fn class_of(cell: &str, classes: &[String]) -> Result<u16, Problem> {
    // The run named its classes by canonical integer text exactly when every label was an integer.
    let integers = classes
        .iter()
        .all(|name| Integer::parse(name).is_some_and(|i| i.to_string() == *name));
    let key = match Integer::parse(cell) {
        Some(integer) if integers => integer.to_string(),
        _ => cell.to_string(),
    };
    match classes.iter().position(|name| *name == key) {
        Some(index) => Ok(u16::try_from(index).unwrap_or(u16::MAX)),
        None => Err(Problem::UnknownClass(Box::new(UnknownColumn {
            name: cell.to_string(),
            available: quoted_names(classes),
        }))),
    }
}

/// Checks the header against the schema and gives each column its use.
fn check_header(
    at: Place<'_>,
    line: u64,
    names: &[String],
    schema: &Schema<'_>,
) -> Result<Vec<Use>, DataError> {
    check_names(at, line, names)?;
    let known = |name: &str| {
        schema.labels.iter().any(|l| l == name)
            || schema.features.iter().any(|f| f == name)
            || schema.ignore.iter().any(|i| i.trim() == name)
    };
    if let [name] = names {
        if !known(name) {
            if let Some(guess) = guess_delimiter(name, schema.delimiter) {
                return Err(at.cell(line, None, Problem::OtherDelimiter(guess)));
            }
        }
    }
    let mut uses = Vec::with_capacity(names.len());
    for (index, name) in names.iter().enumerate() {
        let role = if schema.ignore.iter().any(|i| i.trim() == name) {
            Use::Ignored
        } else if let Some(k) = schema.features.iter().position(|f| f == name) {
            Use::Feature(k)
        } else if let Some(j) = schema.labels.iter().position(|l| l == name) {
            Use::Label(j)
        } else {
            let problem = Problem::NotAFeature {
                features: quoted_names(schema.features),
            };
            return Err(at.cell(line, Some(column(names, index)), problem));
        };
        uses.push(role);
    }
    let missing: Vec<String> = (0..schema.features.len())
        .filter(|&k| !uses.contains(&Use::Feature(k)))
        .map(|k| schema.features[k].clone())
        .collect();
    if !missing.is_empty() {
        let problem = Problem::MissingFeatures(Box::new(UnknownColumn {
            name: quoted_names(&missing),
            available: quoted_names(names),
        }));
        return Err(at.cell(line, None, problem));
    }
    // The targets are read all or none: metrics need every one.
    let found = (0..schema.labels.len())
        .filter(|&j| uses.contains(&Use::Label(j)))
        .count();
    if found > 0 && found < schema.labels.len() {
        let absent: Vec<String> = (0..schema.labels.len())
            .filter(|&j| !uses.contains(&Use::Label(j)))
            .map(|j| schema.labels[j].clone())
            .collect();
        let problem = Problem::MissingTargets(Box::new(UnknownColumn {
            name: quoted_names(&absent),
            available: quoted_names(names),
        }));
        return Err(at.cell(line, None, problem));
    }
    Ok(uses)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn read(text: &str, classes: Option<&[String]>, ignore: &[String]) -> Result<Inputs, String> {
        let features = names(&["a", "b"]);
        let schema = Schema {
            features: &features,
            labels: &["label".to_string()],
            classes,
            delimiter: Delimiter::COMMA,
            ignore,
        };
        read_from(Path::new("new.csv"), text.as_bytes(), &schema).map_err(|e| e.to_string())
    }

    #[test]
    fn features_by_name_in_the_runs_order_labels_as_the_runs_classes() {
        let classes = names(&["2", "10"]);
        let inputs = read("b,label,a\n1,10,2\n\n3,+2.0,4\n", Some(&classes), &[]).unwrap();
        assert_eq!(inputs.features, [2.0, 1.0, 4.0, 3.0]);
        assert_eq!(inputs.lines, [2, 4]);
        assert_eq!(inputs.label.as_ref().unwrap().number, 2);
        assert_eq!(
            inputs.targets,
            Some(Targets::Classes {
                labels: vec![1, 0],
                names: classes.clone()
            })
        );
        // Without the label column: features only, even a single row.
        let inputs = read("a,b\n5,6\n", Some(&classes), &[]).unwrap();
        assert_eq!((inputs.features, inputs.targets), (vec![5.0, 6.0], None));
        // Regression labels are values.
        let inputs = read("a,b,label\n1,2,3.5\n", None, &[]).unwrap();
        assert_eq!(inputs.targets, Some(Targets::Values(vec![3.5])));
    }

    #[test]
    fn other_columns_missing_features_and_unknown_classes_are_errors() {
        let classes = names(&["cat", "dog"]);
        assert_eq!(
            read("a,id,b\n1,2,3\n", Some(&classes), &[]).unwrap_err(),
            "new.csv: line 1, column 'id' (2): the run was not trained on this column (its \
             features are: 'a', 'b'); leave it out with --ignore"
        );
        let inputs = read("a,id,b\n1,x,3\n", Some(&classes), &names(&["id"])).unwrap();
        assert_eq!(inputs.features, [1.0, 3.0]);
        assert_eq!(
            read("a,label\n1,cat\n", Some(&classes), &[]).unwrap_err(),
            "new.csv: line 1: the file lacks the run's feature column(s) 'b'; its columns are: \
             'a', 'label'"
        );
        assert_eq!(
            read("a,b,label\n1,2,cat\n1,2,cow\n", Some(&classes), &[]).unwrap_err(),
            "new.csv: line 3, column 'label' (3): class 'cow' is not one of the run's classes \
             ('cat', 'dog')"
        );
        assert_eq!(
            read("a,b\n1,NA\n", Some(&classes), &[]).unwrap_err(),
            "new.csv: line 2, column 'b' (2): missing value 'NA'"
        );
        assert_eq!(
            read("a,b\n1\n", Some(&classes), &[]).unwrap_err(),
            "new.csv: line 2, column 'b' (2): the row has 1 fields but the header has 2"
        );
        assert_eq!(
            read("a,b\n", Some(&classes), &[]).unwrap_err(),
            "new.csv: there are no data rows below the header"
        );
        assert_eq!(
            read("a;b\n1;2\n", Some(&classes), &[]).unwrap_err(),
            "new.csv: line 1: the header has one column; the file looks ';'-separated: pass \
             --delimiter ';'"
        );
    }
}
