//! The CSV loader (`tinytrain_host::csv_data`) on arbitrary bytes: it must return a table or a
//! `DataError`, never panic; a table it returns must be consistent.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use tinytrain_host::csv_data::{load_from_reader, Targets, Task};

fuzz_target!(|data: &[u8]| {
    // The first byte picks the options, the rest is the file.
    let (options, text) = data.split_first().unwrap_or((&0, &[]));
    let task = match options & 3 {
        1 => Some(Task::Classification),
        2 => Some(Task::Regression),
        _ => None,
    };
    // A label column by name: the first header cell, when asked for.
    let first_cell = text
        .split(|&b| b == b',' || b == b'\n')
        .next()
        .and_then(|c| std::str::from_utf8(c).ok())
        .map(str::trim);
    let label = if options & 4 != 0 { first_cell } else { None };
    match load_from_reader(Path::new("fuzz.csv"), text, label, task) {
        Ok(table) => {
            assert_eq!(table.features.len(), table.rows() * table.width());
            assert!(table.features.iter().all(|v| v.is_finite()));
            match &table.targets {
                Targets::Classes { labels, names } => {
                    assert_eq!(labels.len(), table.rows());
                    assert!(labels.iter().all(|&l| usize::from(l) < names.len()));
                }
                Targets::Values(values) => {
                    assert_eq!(values.len(), table.rows() * table.target_width());
                    assert!(values.iter().all(|v| v.is_finite()));
                }
            }
            let _ = table.dataset();
        }
        Err(error) => {
            let _ = error.to_string();
        }
    }
});
