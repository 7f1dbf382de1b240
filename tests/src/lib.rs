//! Integration tests live in `tests/`; this library holds the helpers they share: heap-backed network
//! memory sized by the plan, and a tiny CSV reader for the bundled datasets.

use tinytrain::network::Buffers;
use tinytrain::spec::{Layer, Plan};

/// Every buffer of a network as `Vec`s of exactly the planned sizes.
#[derive(Clone, Debug, Default)]
pub struct VecMemory {
    /// Parameters.
    pub params: Vec<f32>,
    /// Gradients.
    pub grads: Vec<f32>,
    /// Activations.
    pub activations: Vec<f32>,
    /// Back-propagation scratch.
    pub deltas: Vec<f32>,
    /// Dropout masks.
    pub masks: Vec<u32>,
    /// Optimiser state.
    pub state: Vec<f32>,
}

impl VecMemory {
    /// Zeroed memory for `layers` (which must form a valid network) and `state` floats of optimiser
    /// state.
    pub fn new(layers: &[Layer], state: usize) -> Self {
        let plan = Plan::of(layers).expect("test layers must form a network");
        Self {
            params: vec![0.0; plan.params],
            grads: vec![0.0; plan.params],
            activations: vec![0.0; plan.activations],
            deltas: vec![0.0; plan.deltas],
            masks: vec![0; plan.mask_words],
            state: vec![0.0; state],
        }
    }

    /// Borrows every buffer for `Mlp::new` or `Trainer::new`.
    pub fn buffers(&mut self) -> Buffers<'_> {
        Buffers {
            params: &mut self.params,
            grads: &mut self.grads,
            activations: &mut self.activations,
            deltas: &mut self.deltas,
            masks: &mut self.masks,
            state: &mut self.state,
        }
    }
}

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
