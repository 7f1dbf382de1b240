//! Integration tests live in `tests/`; this library holds the helpers they share: a tiny CSV reader
//! for the bundled datasets. (Heap-backed network memory is the core's `network::VecMemory`.)

/// A classification CSV of the bundled `data/` folder: header row, numeric features, integer label
/// last. Returns `(features row-major, labels, width)`.
pub fn load_classification_csv(path: &std::path::Path) -> (Vec<f32>, Vec<u16>, usize) {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let (mut features, mut labels, mut width) = (Vec::new(), Vec::new(), 0);
    for line in text.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let (label, row) = fields.split_last().expect("empty row");
        width = row.len();
        features.extend(
            row.iter()
                .map(|v| v.parse::<f32>().expect("numeric feature")),
        );
        labels.push(label.parse::<u16>().expect("integer label"));
    }
    (features, labels, width)
}
