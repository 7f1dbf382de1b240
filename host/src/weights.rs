//! A network's parameters as JSON, for `weights.json`, `init.json` and `--init`:
//!
//! ```json
//! {"layers":[{"weight":[[0.12,-0.03],[0.5,0.7]],"bias":[0.0,0.1]}, ...]}
//! ```
//!
//! One entry per dense layer, `weight` as `[outputs][inputs]` (PyTorch's `nn.Linear.weight`), so a
//! file loads into PyTorch with `layer.weight.data = torch.tensor(entry["weight"])`. Numbers are the
//! shortest decimals that read back as the same `f32`, so a write then a read is bit-exact.

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::Path;

use anyhow::{bail, Context};
use tinytrain::network::Mlp;
use tinytrain::spec::{dense_layers, DenseLayout};

/// The parameters of every dense layer, in order.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Weights {
    /// One entry per dense layer.
    pub layers: Vec<DenseWeights>,
}

/// One dense layer's parameters.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DenseWeights {
    /// `[outputs][inputs]`.
    pub weight: Vec<Vec<f32>>,
    /// `[outputs]`.
    pub bias: Vec<f32>,
}

impl Weights {
    /// Every parameter in the network's flat order: each layer's weight rows, then its bias.
    pub fn flat(&self) -> Vec<f32> {
        self.layers
            .iter()
            .flat_map(|l| l.weight.iter().flatten().chain(&l.bias))
            .copied()
            .collect()
    }

    /// A copy of `net`'s parameters.
    pub fn of(net: &Mlp<'_>) -> Self {
        let layers = dense_layers(net.layers())
            .map(|layout| DenseWeights::from_flat(&layout, net.params()))
            .collect();
        Weights { layers }
    }

    /// Copies these parameters into `net`, after checking that every layer has the network's shape.
    pub fn load_into(&self, net: &mut Mlp<'_>) -> anyhow::Result<()> {
        let layout: Vec<DenseLayout> = dense_layers(net.layers()).collect();
        let shapes: Vec<(usize, usize)> = layout.iter().map(|d| (d.inputs, d.outputs)).collect();
        if self.layers.len() != layout.len() {
            bail!(
                "the file has {} dense layers but the network ({}) has {}",
                self.layers.len(),
                describe(&shapes),
                layout.len()
            );
        }
        for (k, (layer, dense)) in self.layers.iter().zip(&layout).enumerate() {
            let (inputs, outputs) = (dense.inputs, dense.outputs);
            let rows_fit =
                layer.weight.len() == outputs && layer.weight.iter().all(|row| row.len() == inputs);
            if !rows_fit || layer.bias.len() != outputs {
                bail!(
                    "dense layer {k} of the network is {inputs}→{outputs} (weight {outputs}×{inputs}, \
                     {outputs} biases), but the file has {}",
                    layer.shape_text()
                );
            }
        }
        // Every layer fits: copy.
        for (layer, dense) in self.layers.iter().zip(&layout) {
            let (weight, bias) = dense.split_mut(net.params_mut());
            weight
                .chunks_exact_mut(dense.inputs)
                .zip(&layer.weight)
                .for_each(|(dst, row)| dst.copy_from_slice(row));
            bias.copy_from_slice(&layer.bias);
        }
        Ok(())
    }

    /// Reads a weights file.
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        serde_json::from_reader(BufReader::new(file)).with_context(|| {
            format!(
                "{} is not a weights file ({{\"layers\":[{{\"weight\":..,\"bias\":..}}]}})",
                path.display()
            )
        })
    }

    /// Parses the text of a weights file (what [`Weights::read`] reads from a file).
    pub fn parse(json: &[u8]) -> anyhow::Result<Self> {
        serde_json::from_slice(json)
            .context("not a weights file ({\"layers\":[{\"weight\":..,\"bias\":..}]})")
    }

    /// Writes a weights file (one line of JSON).
    pub fn write(&self, path: &Path) -> anyhow::Result<()> {
        let write = || -> std::io::Result<()> {
            let mut out = BufWriter::new(File::create(path)?);
            serde_json::to_writer(&mut out, self)?;
            writeln!(out)?;
            out.flush()
        };
        write().with_context(|| format!("cannot write {}", path.display()))
    }
}

impl DenseWeights {
    /// The parameters of the dense layer at `layout` in the flat buffer `params`.
    pub fn from_flat(layout: &DenseLayout, params: &[f32]) -> Self {
        let (weight, bias) = layout.split(params);
        DenseWeights {
            weight: weight
                .chunks_exact(layout.inputs.max(1))
                .map(<[f32]>::to_vec)
                .collect(),
            bias: bias.to_vec(),
        }
    }

    /// E.g. `weight 10×64, 10 biases`, or the row lengths when rows differ.
    fn shape_text(&self) -> String {
        let widths: Vec<usize> = self.weight.iter().map(Vec::len).collect();
        let columns = match widths.first() {
            Some(&first) if widths.iter().all(|&w| w == first) => first.to_string(),
            Some(_) => format!("rows of {widths:?}"),
            None => "0".to_string(),
        };
        format!(
            "weight {}×{columns}, {} biases",
            self.weight.len(),
            self.bias.len()
        )
    }
}

/// The widths of a chain of dense layers, e.g. `4→64→3`.
pub fn describe(shapes: &[(usize, usize)]) -> String {
    let mut widths: Vec<String> = shapes
        .first()
        .map(|&(inputs, _)| inputs.to_string())
        .into_iter()
        .collect();
    widths.extend(shapes.iter().map(|&(_, outputs)| outputs.to_string()));
    widths.join("→")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::VecMemory;
    use tinytrain::optim::OptimizerKind;
    use tinytrain::spec::{Layer, Plan};

    const LAYERS: [Layer; 3] = [
        Layer::dense(3, 5),
        Layer::Activation(tinytrain::layers::Activation::Tanh),
        Layer::dense(5, 2),
    ];

    #[test]
    fn export_follows_the_flat_layout() {
        let mut memory = VecMemory::new(&Plan::of(&LAYERS).unwrap(), OptimizerKind::SGD);
        let net = Mlp::new(&LAYERS, memory.buffers(), 3).unwrap();
        let weights = Weights::of(&net);
        assert_eq!(weights.layers.len(), 2);
        assert_eq!(weights.layers[0].weight.len(), 5);
        assert_eq!(weights.layers[0].weight[1][0], net.params()[3]);
        assert_eq!(weights.layers[0].bias[0], net.params()[15]);
        assert_eq!(weights.layers[1].weight[0][0], net.params()[20]);
    }

    #[test]
    fn json_round_trip_is_bit_exact() {
        let mut memory = VecMemory::new(&Plan::of(&LAYERS).unwrap(), OptimizerKind::SGD);
        let mut net = Mlp::new(&LAYERS, memory.buffers(), 11).unwrap();
        // Awkward values too: subnormal, tiny, huge, negative zero.
        net.params_mut()[..4].copy_from_slice(&[1e-45, -0.0, 3.4028235e38, 1.0000001]);
        let before = net.params().to_vec();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.json");
        Weights::of(&net).write(&path).unwrap();
        net.init(99);
        Weights::read(&path).unwrap().load_into(&mut net).unwrap();
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(net.params()), bits(&before));
    }

    #[test]
    fn shape_mismatches_are_explained() {
        let mut memory = VecMemory::new(&Plan::of(&LAYERS).unwrap(), OptimizerKind::SGD);
        let mut net = Mlp::new(&LAYERS, memory.buffers(), 3).unwrap();
        let good = Weights::of(&net);

        let mut fewer = good.clone();
        fewer.layers.pop();
        let message = fewer.load_into(&mut net).unwrap_err().to_string();
        assert_eq!(
            message,
            "the file has 1 dense layers but the network (3→5→2) has 2"
        );

        let mut wide = good.clone();
        wide.layers[1]
            .weight
            .iter_mut()
            .for_each(|row| row.push(0.0));
        let message = wide.load_into(&mut net).unwrap_err().to_string();
        assert!(
            message.contains("dense layer 1 of the network is 5→2"),
            "{message}"
        );
        assert!(
            message.contains("the file has weight 2×6, 2 biases"),
            "{message}"
        );

        let mut ragged = good;
        ragged.layers[0].weight[2].pop();
        let message = ragged.load_into(&mut net).unwrap_err().to_string();
        assert!(message.contains("rows of [3, 3, 2, 3, 3]"), "{message}");
    }

    #[test]
    fn read_rejects_other_json() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("manifest.json");
        std::fs::write(&path, "{\"config\":{}}").unwrap();
        let message = format!("{:#}", Weights::read(&path).unwrap_err());
        assert!(
            message.contains("manifest.json is not a weights file"),
            "{message}"
        );
        assert!(message.contains("missing field `layers`"), "{message}");
    }
}
