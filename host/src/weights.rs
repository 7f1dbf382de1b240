//! A network's parameters as JSON, for `weights.json`, `init.json` and `--init`: every
//! parametrised layer in order, each with its `kind`,
//!
//! ```json
//! {"layers":[
//!   {"kind":"dense","weight":[[0.12,-0.03],[0.5,0.7]],"bias":[0.0,0.1]},
//!   {"kind":"batch_norm","weight":[1.02,0.97],"bias":[0.01,-0.02],
//!    "running_mean":[0.3,-0.1],"running_var":[0.8,1.1]},
//!   {"kind":"dense","weight":[[0.4,-0.2]],"bias":[0.05]}
//! ]}
//! ```
//!
//! A dense entry's `weight` is `[outputs][inputs]` (PyTorch's `nn.Linear.weight`), so an entry
//! loads into PyTorch with `layer.weight.data = torch.tensor(entry["weight"])`. A batch-norm entry
//! holds the four tensors of `nn.BatchNorm1d`'s `state_dict` under their names: `weight` (γ), `bias`
//! (β), `running_mean` and `running_var`. An entry without `kind` is dense (files written before
//! batch norm existed). Numbers are the shortest decimals that read back as the same `f32`, so a
//! write then a read is bit-exact.

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::Path;

use anyhow::{bail, Context};
use tinytrain::network::Mlp;
use tinytrain::spec::{DenseLayout, Layer};

use crate::model::Normalization;

/// The parameters of every dense layer and every batch norm, in order.
///
/// The dense layers and the batch norms are kept apart (most readers want the dense layers only);
/// each batch norm knows how many dense layers come before it, which puts it in the file's one
/// ordered list ([`Weights::entries`]).
#[derive(Clone, Debug, Default, PartialEq, serde::Deserialize)]
#[serde(try_from = "WeightsFile")]
pub struct Weights {
    /// One entry per dense layer.
    pub layers: Vec<DenseWeights>,
    /// One entry per batch norm, in order.
    pub batch_norms: Vec<BatchNormWeights>,
    /// What the network expects of its input and what its outputs mean (`None` in files written
    /// before they carried it).
    pub about: Option<About>,
}

/// What makes a weights file a deployable model on its own: the input columns in order, the
/// standardisation the network was trained behind, and the class of each output. The file's
/// top-level `feature_names`, `class_names` and `normalization` (the fields and meaning of
/// `manifest.json`'s).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct About {
    /// The feature columns, in the network's input order.
    pub feature_names: Vec<String>,
    /// The label text of each class index (absent for a regression or an autoencoder).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub class_names: Vec<String>,
    /// The standardisation of the inputs (absent: `--normalize none`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub normalization: Option<Normalization>,
}

/// One dense layer's parameters.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DenseWeights {
    /// `[outputs][inputs]`.
    pub weight: Vec<Vec<f32>>,
    /// `[outputs]`.
    pub bias: Vec<f32>,
}

/// One batch norm's parameters and running statistics, named as in PyTorch's `state_dict` of
/// `nn.BatchNorm1d`.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BatchNormWeights {
    /// Dense layers before this batch norm in the network (its place in the file's list).
    #[serde(skip)]
    pub after_dense: usize,
    /// `γ`, `[features]`.
    pub weight: Vec<f32>,
    /// `β`, `[features]`.
    pub bias: Vec<f32>,
    /// `[features]`.
    pub running_mean: Vec<f32>,
    /// `[features]` (unbiased, as PyTorch keeps it).
    pub running_var: Vec<f32>,
}

/// One entry of the file's list of layers.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Entry<'a> {
    /// A dense layer.
    Dense(&'a DenseWeights),
    /// A batch norm.
    BatchNorm(&'a BatchNormWeights),
}

/// A parametrised layer of a network, where its values live.
#[derive(Clone, Debug, PartialEq)]
enum Slot {
    /// A dense layer.
    Dense(DenseLayout),
    /// The `index`-th batch norm, its `γ` at `params[offset..]`, then `β`.
    BatchNorm {
        index: usize,
        features: usize,
        offset: usize,
    },
}

/// The parametrised layers of `layers`, in order.
fn slots(layers: &[Layer]) -> Vec<Slot> {
    let mut slots = Vec::new();
    let (mut offset, mut batch_norms) = (0, 0);
    for layer in layers {
        match *layer {
            Layer::Dense { inputs, outputs } => {
                slots.push(Slot::Dense(DenseLayout::at(inputs, outputs, offset)));
            }
            Layer::BatchNorm { features } => {
                slots.push(Slot::BatchNorm {
                    index: batch_norms,
                    features,
                    offset,
                });
                batch_norms += 1;
            }
            Layer::Activation(_) | Layer::Dropout { .. } => {}
        }
        offset += layer.params();
    }
    slots
}

impl Slot {
    /// E.g. `dense 64→32`, `batch norm 32`.
    fn text(&self) -> String {
        match self {
            Slot::Dense(d) => format!("dense {}→{}", d.inputs, d.outputs),
            Slot::BatchNorm { features, .. } => format!("batch norm {features}"),
        }
    }
}

impl About {
    /// What a prepared run's network reads and predicts.
    pub fn of(setup: &crate::pipeline::Setup<'_>) -> Self {
        About {
            feature_names: setup.table.feature_names.clone(),
            class_names: if setup.is_autoencoder() {
                Vec::new()
            } else {
                setup.table.class_names().to_vec()
            },
            normalization: crate::model::Normalization::of(setup),
        }
    }
}

impl Weights {
    /// Every layer in the network's order: each batch norm after the dense layers before it.
    pub fn entries(&self) -> Vec<Entry<'_>> {
        let mut entries = Vec::with_capacity(self.layers.len() + self.batch_norms.len());
        let mut batch_norms = self.batch_norms.iter().peekable();
        for (k, dense) in self.layers.iter().enumerate() {
            while let Some(bn) = batch_norms.next_if(|bn| bn.after_dense <= k) {
                entries.push(Entry::BatchNorm(bn));
            }
            entries.push(Entry::Dense(dense));
        }
        entries.extend(batch_norms.map(Entry::BatchNorm));
        entries
    }

    /// Every parameter in the network's flat order: each dense layer's weight rows, then its bias;
    /// each batch norm's `γ`, then its `β` (the running statistics are not parameters).
    pub fn flat(&self) -> Vec<f32> {
        let mut flat = Vec::new();
        for entry in self.entries() {
            match entry {
                Entry::Dense(d) => {
                    d.weight.iter().for_each(|row| flat.extend_from_slice(row));
                    flat.extend_from_slice(&d.bias);
                }
                Entry::BatchNorm(bn) => {
                    flat.extend_from_slice(&bn.weight);
                    flat.extend_from_slice(&bn.bias);
                }
            }
        }
        flat
    }

    /// `true` if every parameter and running statistic is a finite number.
    pub fn is_finite(&self) -> bool {
        let statistics = self
            .batch_norms
            .iter()
            .flat_map(|bn| bn.running_mean.iter().chain(&bn.running_var));
        self.flat().iter().chain(statistics).all(|v| v.is_finite())
    }

    /// `true` if the file has a batch norm.
    pub fn has_batch_norm(&self) -> bool {
        !self.batch_norms.is_empty()
    }

    /// A copy of `net`'s parameters and batch-norm running statistics.
    pub fn of(net: &Mlp<'_>) -> Self {
        let mut weights = Weights::default();
        for slot in slots(net.layers()) {
            match slot {
                Slot::Dense(layout) => {
                    // The layer's own parameters, wherever they are (a front read in place, or
                    // the network's buffer), laid out from 0.
                    let own = tinytrain::network::layer_params(
                        net.front(),
                        net.params(),
                        layout.range.clone(),
                    )
                    .unwrap_or(&[]);
                    let at = DenseLayout::at(layout.inputs, layout.outputs, 0);
                    weights.layers.push(DenseWeights::from_flat(&at, own));
                }
                Slot::BatchNorm { index, .. } => {
                    // `slots` found the layer, so the network has it.
                    if let Some(view) = net.batch_norm_layer(index) {
                        weights.batch_norms.push(BatchNormWeights {
                            after_dense: weights.layers.len(),
                            weight: view.weight.to_vec(),
                            bias: view.bias.to_vec(),
                            running_mean: view.running_mean.to_vec(),
                            running_var: view.running_var.to_vec(),
                        });
                    }
                }
            }
        }
        weights
    }

    /// Copies these parameters (and running statistics) into `net`, after checking that the file
    /// has the network's layers, in order, each of its shape.
    pub fn load_into(&self, net: &mut Mlp<'_>) -> anyhow::Result<()> {
        let slots = slots(net.layers());
        self.check(&slots)?;
        self.copy_into(net, &slots)
    }

    /// How many of `layers`' parametrised layers, from the first on, the file has with their
    /// kind and shape: all of them, or the leading ones of a network whose later layers differ (a
    /// new head). A file with none of them, or with every one and more, is the error
    /// [`Weights::load_into`] gives.
    pub fn leading_layers(&self, layers: &[Layer]) -> anyhow::Result<usize> {
        let slots = slots(layers);
        let entries = self.entries();
        let leading = entries
            .iter()
            .zip(&slots)
            .take_while(|(entry, slot)| entry.fits(slot))
            .count();
        // A partial load is of a shorter file, or of one whose later layers are the network's
        // kinds in other shapes (a new head): a file of another kind of network is refused.
        let same_kinds = entries.len() == slots.len()
            && entries
                .iter()
                .zip(&slots)
                .all(|(e, s)| matches!(e, Entry::Dense(_)) == matches!(s, Slot::Dense(_)));
        if leading == 0 || leading == slots.len() || !(entries.len() == leading || same_kinds) {
            self.check(&slots)?;
            return Ok(slots.len());
        }
        self.truncated(leading).check(&slots[..leading])?;
        Ok(leading)
    }

    /// [`Weights::load_into`] of the first `n` parametrised layers ([`Weights::leading_layers`]);
    /// the network's later layers keep their values.
    pub fn load_leading_into(&self, net: &mut Mlp<'_>, n: usize) -> anyhow::Result<()> {
        let slots = slots(net.layers());
        let n = n.min(slots.len());
        let head = self.truncated(n);
        head.check(&slots[..n])?;
        head.copy_into(net, &slots[..n])
    }

    /// The file's first `n` entries, as a file of their own.
    fn truncated(&self, n: usize) -> Weights {
        let mut head = Weights {
            about: self.about.clone(),
            ..Weights::default()
        };
        for entry in self.entries().into_iter().take(n) {
            match entry {
                Entry::Dense(d) => head.layers.push(d.clone()),
                Entry::BatchNorm(bn) => head.batch_norms.push(BatchNormWeights {
                    after_dense: head.layers.len(),
                    ..bn.clone()
                }),
            }
        }
        head
    }

    /// Copies every entry into its slot (checked by the caller).
    fn copy_into(&self, net: &mut Mlp<'_>, slots: &[Slot]) -> anyhow::Result<()> {
        if !net.front().is_empty() {
            bail!("internal error: weights load into a network that holds all its parameters, not one that reads its frozen layers in place");
        }
        // Every layer fits: copy.
        for (entry, slot) in self.entries().into_iter().zip(slots) {
            match (entry, slot) {
                (Entry::Dense(layer), Slot::Dense(dense)) => {
                    let (weight, bias) = dense.split_mut(net.params_mut());
                    weight
                        .chunks_exact_mut(dense.inputs)
                        .zip(&layer.weight)
                        .for_each(|(dst, row)| dst.copy_from_slice(row));
                    bias.copy_from_slice(&layer.bias);
                }
                (
                    Entry::BatchNorm(bn),
                    &Slot::BatchNorm {
                        index,
                        features,
                        offset,
                    },
                ) => {
                    let (gamma, beta) = net
                        .params_mut()
                        .get_mut(offset..offset + 2 * features)
                        .context("internal error: the network lost a batch norm")?
                        .split_at_mut(features);
                    gamma.copy_from_slice(&bn.weight);
                    beta.copy_from_slice(&bn.bias);
                    let (mean, var) = net
                        .batch_norm_running_mut(index)
                        .context("internal error: the network lost a batch norm")?;
                    mean.copy_from_slice(&bn.running_mean);
                    var.copy_from_slice(&bn.running_var);
                }
                _ => bail!("internal error: the checked layers differ"),
            }
        }
        Ok(())
    }

    /// Checks that the file's layers are the network's `slots`, kind by kind and shape by shape.
    fn check(&self, slots: &[Slot]) -> anyhow::Result<()> {
        let entries = self.entries();
        let network = describe_slots(slots);
        let dense_in_net = slots.iter().filter(|s| matches!(s, Slot::Dense(_))).count();
        let batch_norms_in_net = slots.len() - dense_in_net;
        if self.batch_norms.is_empty()
            && batch_norms_in_net == 0
            && self.layers.len() != dense_in_net
        {
            bail!(
                "the file has {} dense layers but the network ({network}) has {dense_in_net}",
                self.layers.len(),
            );
        }
        let kinds_differ = entries.len() != slots.len()
            || entries
                .iter()
                .zip(slots)
                .any(|(e, s)| matches!(e, Entry::Dense(_)) != matches!(s, Slot::Dense(_)));
        if kinds_differ {
            let file: Vec<String> = entries.iter().map(Entry::text).collect();
            let net: Vec<String> = slots.iter().map(Slot::text).collect();
            let at = file
                .iter()
                .zip(&net)
                .position(|(f, n)| f.split(' ').next() != n.split(' ').next())
                .unwrap_or(file.len().min(net.len()));
            let why = match (self.has_batch_norm(), batch_norms_in_net > 0) {
                (true, false) => {
                    " (the file is of a network with batch norm, trained with --batch-norm; this \
                     network has none)"
                }
                (false, true) => {
                    " (this network has batch norm, --batch-norm; the file is of a network \
                     without)"
                }
                _ => "",
            };
            let place = |list: &[String]| list.get(at).map_or("nothing".into(), Clone::clone);
            bail!(
                "the file's layers are [{}] but the network's are [{}]: layer {at} is {} in the \
                 file and {} in the network{why}",
                file.join(", "),
                net.join(", "),
                place(&file),
                place(&net),
            );
        }
        for (i, (entry, slot)) in entries.iter().zip(slots).enumerate() {
            match (entry, slot) {
                (Entry::Dense(layer), Slot::Dense(dense)) => {
                    let k = slots[..i]
                        .iter()
                        .filter(|s| matches!(s, Slot::Dense(_)))
                        .count();
                    let (inputs, outputs) = (dense.inputs, dense.outputs);
                    let rows_fit = layer.weight.len() == outputs
                        && layer.weight.iter().all(|row| row.len() == inputs);
                    if !rows_fit || layer.bias.len() != outputs {
                        bail!(
                            "dense layer {k} of the network is {inputs}→{outputs} (weight \
                             {outputs}×{inputs}, {outputs} biases), but the file has {}",
                            layer.shape_text()
                        );
                    }
                }
                (
                    Entry::BatchNorm(bn),
                    &Slot::BatchNorm {
                        index, features, ..
                    },
                ) => {
                    let lengths = [
                        bn.weight.len(),
                        bn.bias.len(),
                        bn.running_mean.len(),
                        bn.running_var.len(),
                    ];
                    if lengths.iter().any(|&n| n != features) {
                        bail!(
                            "batch norm {index} of the network (layer {i} of the file) has \
                             {features} features (weight, bias, running_mean and running_var of \
                             {features} values each), but the file has weight {}, bias {}, \
                             running_mean {}, running_var {} values",
                            lengths[0],
                            lengths[1],
                            lengths[2],
                            lengths[3]
                        );
                    }
                    if let Some((j, v)) = bn.running_var.iter().enumerate().find(|(_, v)| **v < 0.0)
                    {
                        bail!(
                            "batch norm {index} (layer {i} of the file): running_var[{j}] is {v}, \
                             but a variance is never negative"
                        );
                    }
                }
                _ => bail!("internal error: the layer kinds were checked"),
            }
        }
        Ok(())
    }

    /// Reads a weights file.
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        serde_json::from_reader(BufReader::new(file))
            .with_context(|| format!("{} is not a weights file ({FORMAT})", path.display()))
    }

    /// Parses the text of a weights file (what [`Weights::read`] reads from a file).
    pub fn parse(json: &[u8]) -> anyhow::Result<Self> {
        serde_json::from_slice(json).with_context(|| format!("not a weights file ({FORMAT})"))
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

/// The shape of a weights file, for messages.
const FORMAT: &str = "{\"layers\":[{\"kind\":\"dense\",\"weight\":..,\"bias\":..}, ..]}";

/// The file as JSON has it: one list of entries, each told apart by its `kind`.
#[derive(serde::Deserialize)]
struct WeightsFile {
    layers: Vec<serde_json::Value>,
    /// [`About`]'s fields (not `flatten`ed: serde drops a flattened `Option`'s errors).
    #[serde(default)]
    feature_names: Option<Vec<String>>,
    #[serde(default)]
    class_names: Vec<String>,
    #[serde(default)]
    normalization: Option<Normalization>,
}

impl TryFrom<WeightsFile> for Weights {
    type Error = String;

    fn try_from(file: WeightsFile) -> Result<Self, String> {
        let mut weights = Weights {
            about: file.feature_names.map(|feature_names| About {
                feature_names,
                class_names: file.class_names,
                normalization: file.normalization,
            }),
            ..Weights::default()
        };
        for (i, entry) in file.layers.into_iter().enumerate() {
            let kind = match entry.get("kind") {
                None => "dense",
                Some(kind) => kind
                    .as_str()
                    .ok_or_else(|| format!("layer {i}: `kind` is {kind}, not a string"))?,
            };
            match kind {
                "dense" => weights.layers.push(
                    serde_json::from_value(entry).map_err(|e| format!("layer {i} (dense): {e}"))?,
                ),
                "batch_norm" => {
                    let bn: BatchNormWeights = serde_json::from_value(entry)
                        .map_err(|e| format!("layer {i} (batch_norm): {e}"))?;
                    weights.batch_norms.push(BatchNormWeights {
                        after_dense: weights.layers.len(),
                        ..bn
                    });
                }
                other => {
                    return Err(format!(
                        "layer {i}: unknown kind {other:?} (\"dense\" or \"batch_norm\")"
                    ))
                }
            }
        }
        Ok(weights)
    }
}

impl serde::Serialize for Weights {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(serde::Serialize)]
        struct Layers<'a> {
            layers: Vec<Entry<'a>>,
            #[serde(flatten, skip_serializing_if = "Option::is_none")]
            about: Option<&'a About>,
        }
        Layers {
            layers: self.entries(),
            about: self.about.as_ref(),
        }
        .serialize(serializer)
    }
}

impl Entry<'_> {
    /// The entry has `slot`'s kind and shape.
    fn fits(&self, slot: &Slot) -> bool {
        match (self, slot) {
            (Entry::Dense(d), Slot::Dense(layout)) => {
                d.weight.len() == layout.outputs
                    && d.weight.iter().all(|row| row.len() == layout.inputs)
                    && d.bias.len() == layout.outputs
            }
            (Entry::BatchNorm(bn), &Slot::BatchNorm { features, .. }) => {
                [&bn.weight, &bn.bias, &bn.running_mean, &bn.running_var]
                    .iter()
                    .all(|v| v.len() == features)
            }
            _ => false,
        }
    }

    /// E.g. `dense 64→32`, `batch norm 32`.
    pub fn text(&self) -> String {
        match self {
            Entry::Dense(d) => match d.weight.first() {
                Some(row) if d.weight.iter().all(|r| r.len() == row.len()) => {
                    format!("dense {}→{}", row.len(), d.weight.len())
                }
                _ => format!("dense ({})", d.shape_text()),
            },
            Entry::BatchNorm(bn) => format!("batch norm {}", bn.weight.len()),
        }
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

/// The widths of a network's dense layers, e.g. `4→64→3`, and its batch norms: `64→32→10 with
/// 1 batch norm`.
pub fn shape(layers: &[Layer]) -> String {
    let shapes: Vec<(usize, usize)> = tinytrain::spec::dense_layers(layers)
        .map(|d| (d.inputs, d.outputs))
        .collect();
    with_batch_norms(
        describe(&shapes),
        layers
            .iter()
            .filter(|l| matches!(l, Layer::BatchNorm { .. }))
            .count(),
    )
}

/// `widths`, then ` with N batch norm(s)` when there are any.
fn with_batch_norms(widths: String, batch_norms: usize) -> String {
    match batch_norms {
        0 => widths,
        1 => format!("{widths} with 1 batch norm"),
        n => format!("{widths} with {n} batch norms"),
    }
}

/// [`shape`] of the network whose parametrised layers are `slots`.
fn describe_slots(slots: &[Slot]) -> String {
    let shapes: Vec<(usize, usize)> = slots
        .iter()
        .filter_map(|s| match s {
            Slot::Dense(d) => Some((d.inputs, d.outputs)),
            Slot::BatchNorm { .. } => None,
        })
        .collect();
    with_batch_norms(describe(&shapes), slots.len() - shapes.len())
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

    /// The columns, classes and statistics ride along and read back bit for bit; a file
    /// without them (or with a part missing) reads as one without them.
    #[test]
    fn what_the_model_reads_and_predicts_round_trips() {
        let about = About {
            feature_names: vec!["a".into(), "b".into()],
            class_names: vec!["no".into(), "yes".into()],
            normalization: Some(Normalization {
                feature_mean: vec![0.1, -2.5e-7],
                feature_scale: vec![3.0, 1.0000001],
                target_mean: None,
                target_std: None,
                target_scale: None,
            }),
        };
        let weights = Weights {
            layers: vec![DenseWeights {
                weight: vec![vec![0.5, -0.25]],
                bias: vec![0.0],
            }],
            about: Some(about),
            ..Weights::default()
        };
        let text = serde_json::to_string(&weights).unwrap();
        assert!(text.starts_with(r#"{"layers":[{"kind":"dense","#), "{text}");
        assert!(text.contains(r#""feature_names":["a","b"],"class_names":["no","yes"],"normalization":{"feature_mean":[0.1,-2.5e-7]"#), "{text}");
        assert_eq!(Weights::parse(text.as_bytes()).unwrap(), weights);
        let bare =
            Weights::parse(br#"{"layers":[{"weight":[[0.5,-0.25]],"bias":[0.0]}]}"#).unwrap();
        assert_eq!(bare.about, None);
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

    /// Dense → batch norm → ReLU → dense, as `train --batch-norm` builds it.
    const BN_LAYERS: [Layer; 4] = [
        Layer::dense(3, 4),
        Layer::batch_norm(4),
        Layer::Activation(tinytrain::layers::Activation::Relu),
        Layer::dense(4, 2),
    ];

    fn bits(v: &[f32]) -> Vec<u32> {
        v.iter().map(|x| x.to_bits()).collect()
    }

    #[test]
    fn batch_norms_are_listed_in_order_with_pytorchs_names_and_round_trip_bit_exact() {
        let plan = Plan::of(&BN_LAYERS).unwrap();
        let mut memory = VecMemory::new(&plan, OptimizerKind::SGD);
        let mut net = Mlp::new(&BN_LAYERS, memory.buffers(), 5).unwrap();
        // γ and β sit after the first dense layer's 16 parameters; awkward values throughout.
        net.params_mut()[16..20].copy_from_slice(&[1e-45, -0.0, 3.4028235e38, 1.0000001]);
        net.params_mut()[20..24].copy_from_slice(&[-2.5, 0.1, 7e-39, -1e-7]);
        let (mean, var) = net.batch_norm_running_mut(0).unwrap();
        mean.copy_from_slice(&[0.3, -0.1, 1e-30, -0.0]);
        var.copy_from_slice(&[0.8, 1.1, 1e-45, 123456.79]);
        let before = Weights::of(&net);
        assert_eq!(bits(&before.flat()), bits(net.params()));
        assert_eq!(before.batch_norms.len(), 1);
        assert_eq!(before.batch_norms[0].after_dense, 1);
        assert_eq!(before.batch_norms[0].running_var[3], 123456.79);

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.json");
        before.write(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.contains(r#"{"kind":"batch_norm","weight":["#),
            "{text}"
        );
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        let kinds: Vec<&str> = json["layers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["kind"].as_str().unwrap())
            .collect();
        assert_eq!(kinds, ["dense", "batch_norm", "dense"]);
        let bn = json["layers"][1].as_object().unwrap();
        let keys: Vec<&str> = bn.keys().map(String::as_str).collect();
        // (serde_json's map sorts its keys.)
        assert_eq!(
            keys,
            ["bias", "kind", "running_mean", "running_var", "weight"]
        );
        assert!(bn
            .iter()
            .all(|(k, v)| k == "kind" || v.as_array().unwrap().len() == 4));

        let stats = net.stats().to_vec();
        net.init(99);
        let read = Weights::read(&path).unwrap();
        assert_eq!(read, before);
        read.load_into(&mut net).unwrap();
        assert_eq!(bits(net.params()), bits(&before.flat()));
        assert_eq!(bits(&net.stats()[..8]), bits(&stats[..8]));
        // Written again, the same bytes.
        let again = dir.path().join("again.json");
        Weights::of(&net).write(&again).unwrap();
        assert_eq!(
            std::fs::read(&again).unwrap(),
            std::fs::read(&path).unwrap()
        );
    }

    #[test]
    fn entries_without_kind_are_dense() {
        // A file written before batch norm existed.
        let old = br#"{"layers":[{"weight":[[1,2,3],[4,5,6],[7,8,9],[1,2,3],[4,5,6]],"bias":[0,0,0,0,0.5]},
                                 {"weight":[[1,1,1,1,1],[2,2,2,2,2]],"bias":[-1,1]}]}"#;
        let weights = Weights::parse(old).unwrap();
        assert_eq!((weights.layers.len(), weights.batch_norms.len()), (2, 0));
        let mut memory = VecMemory::new(&Plan::of(&LAYERS).unwrap(), OptimizerKind::SGD);
        let mut net = Mlp::new(&LAYERS, memory.buffers(), 3).unwrap();
        weights.load_into(&mut net).unwrap();
        assert_eq!(net.params()[19], 0.5);
        // Written now, each entry says its kind.
        let text = serde_json::to_string(&weights).unwrap();
        assert!(
            text.starts_with(r#"{"layers":[{"kind":"dense","weight":[[1.0,2.0"#),
            "{text}"
        );

        let message = format!(
            "{:#}",
            Weights::parse(br#"{"layers":[{"kind":"conv","weight":[]}]}"#).unwrap_err()
        );
        assert!(
            message.contains(r#"layer 0: unknown kind "conv" ("dense" or "batch_norm")"#),
            "{message}"
        );
        let message = format!(
            "{:#}",
            Weights::parse(br#"{"layers":[{"kind":"batch_norm","weight":[1],"bias":[0]}]}"#)
                .unwrap_err()
        );
        assert!(
            message.contains("layer 0 (batch_norm): missing field `running_mean`"),
            "{message}"
        );
    }

    #[test]
    fn batch_norm_mismatches_are_explained() {
        let mut bn_memory = VecMemory::new(&Plan::of(&BN_LAYERS).unwrap(), OptimizerKind::SGD);
        let mut bn_net = Mlp::new(&BN_LAYERS, bn_memory.buffers(), 3).unwrap();
        let layers = [
            Layer::dense(3, 4),
            Layer::Activation(tinytrain::layers::Activation::Relu),
            Layer::dense(4, 2),
        ];
        let mut memory = VecMemory::new(&Plan::of(&layers).unwrap(), OptimizerKind::SGD);
        let mut net = Mlp::new(&layers, memory.buffers(), 3).unwrap();

        let with_bn = Weights::of(&bn_net);
        let message = with_bn.load_into(&mut net).unwrap_err().to_string();
        assert_eq!(
            message,
            "the file's layers are [dense 3→4, batch norm 4, dense 4→2] but the network's are \
             [dense 3→4, dense 4→2]: layer 1 is batch norm 4 in the file and dense 4→2 in the \
             network (the file is of a network with batch norm, trained with --batch-norm; this \
             network has none)"
        );
        let message = Weights::of(&net)
            .load_into(&mut bn_net)
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("the network's are [dense 3→4, batch norm 4, dense 4→2]"),
            "{message}"
        );
        assert!(
            message.contains("layer 1 is dense 4→2 in the file and batch norm 4 in the network"),
            "{message}"
        );
        assert!(
            message.contains("(this network has batch norm"),
            "{message}"
        );

        let mut narrow = with_bn.clone();
        narrow.batch_norms[0].running_var.pop();
        let message = narrow.load_into(&mut bn_net).unwrap_err().to_string();
        assert!(
            message.starts_with("batch norm 0 of the network (layer 1 of the file) has 4 features"),
            "{message}"
        );
        assert!(
            message
                .ends_with("the file has weight 4, bias 4, running_mean 4, running_var 3 values"),
            "{message}"
        );
        let mut negative = with_bn;
        negative.batch_norms[0].running_var[2] = -0.5;
        let message = negative.load_into(&mut bn_net).unwrap_err().to_string();
        assert!(message.contains("running_var[2] is -0.5"), "{message}");
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
